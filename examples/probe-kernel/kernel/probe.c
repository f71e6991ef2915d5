/*
 * The arch-neutral half of the probe: walk the preload metadata the way the FreeBSD kernel does, check what the
 * kernel relies on, and report it on the console (the protocol is in ../README.md).
 *
 * Record format (stand/common/modinfo.c, sys/kern/subr_module.c preload_search_info): {u32 type; u32 size; data}
 * padded to 8 bytes, files in load order, each starting with MODINFO_NAME, the list ending with {0, 0}. The
 * kernel is the first file, of type "elf kernel" (stand/common/load_elf.c), and its records carry HOWTO, ENVP and
 * KERNEND (stand/efi/loader/bootinfo.c bi_load). Addresses in the records are loader addresses; md_offset turns
 * one into a pointer (amd64: + KERNBASE, sys/amd64/amd64/machdep.c native_parse_preload_data; arm64: they are
 * kernel VAs, and with the MMU off the probe reads VA - VA(_start) + PA(_start)).
 *
 * Only aligned loads of at most the record's natural width, and byte loops for strings: on arm64 the MMU is off,
 * all memory is Device memory and an unaligned access faults. No absolute pointers are stored in data, so the
 * code also runs at the physical address it was entered at.
 */
#include "probe.h"

static const char KERNTYPE[] = "elf kernel";	/* sys/sys/linker.h; stand/common/load_elf.c kerneltype */

/*
 * -ffreestanding code may still get calls to these for struct clears and copies. The volatile keeps the compiler
 * from turning the loops back into calls to themselves.
 */
void *memset(void *d, int c, unsigned long n);
void *memcpy(void *d, const void *s, unsigned long n);

void *
memset(void *d, int c, unsigned long n)
{
	volatile unsigned char *p = d;

	while (n-- > 0)
		*p++ = (unsigned char)c;
	return d;
}

void *
memcpy(void *d, const void *s, unsigned long n)
{
	volatile unsigned char *p = d;
	const unsigned char *q = s;

	while (n-- > 0)
		*p++ = *q++;
	return d;
}

/* ---- memory at recorded addresses (probe.h) ---- */

#define rd8	probe_rd8
#define rd32	probe_rd32
#define rd64	probe_rd64
#define next_record	probe_next_record

/* The recorded address of something of the probe's own. */
static inline uint64_t
rec(const void *p)
{
	return (uint64_t)(uintptr_t)p - md_offset;
}

/* ---- output: a printf of %s and %x (uint64_t, lowercase; "%08x" pads) ---- */

typedef void (*emit_fn)(int c, void *arg);

static void
emit_console(int c, void *arg)
{
	(void)arg;
	md_putc(c);
}

struct buf {
	char	*p;
	unsigned len, max;
};

static void
emit_buf(int c, void *arg)
{
	struct buf *b = arg;

	if (b->len + 1 < b->max)
		b->p[b->len++] = (char)c;
	b->p[b->len] = 0;
}

static void
vfmt(emit_fn emit, void *arg, const char *fmt, va_list ap)
{
	static const char digits[] = "0123456789abcdef";

	for (; *fmt != 0; fmt++) {
		if (*fmt != '%') {
			emit(*fmt, arg);
			continue;
		}
		unsigned width = 0;
		for (fmt++; *fmt >= '0' && *fmt <= '9'; fmt++)
			width = width * 10 + (unsigned)(*fmt - '0');
		if (*fmt == 's') {
			for (const char *s = va_arg(ap, const char *); *s != 0; s++)
				emit(*s, arg);
		} else if (*fmt == 'x') {
			uint64_t v = va_arg(ap, uint64_t);
			char tmp[16];
			unsigned n = 0;
			do {
				tmp[n++] = digits[v & 0xf];
				v >>= 4;
			} while (v != 0);
			while (width > n) {
				emit('0', arg);
				width--;
			}
			while (n > 0)
				emit(tmp[--n], arg);
		} else {
			emit('%', arg);
			if (*fmt == 0)
				break;
			emit(*fmt, arg);
		}
	}
}

void
probe_print(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfmt(emit_console, 0, fmt, ap);
	va_end(ap);
}

void
probe_fail(const char *fmt, ...)
{
	va_list ap;

	probe_print("PROBE FAIL ");
	va_start(ap, fmt);
	vfmt(emit_console, 0, fmt, ap);
	va_end(ap);
	md_putc('\n');
	md_poweroff(0);
}

static char fmtbuf[256];

const char *
probe_format(const char *fmt, ...)
{
	struct buf b = {fmtbuf, 0, sizeof(fmtbuf)};
	va_list ap;

	va_start(ap, fmt);
	vfmt(emit_buf, &b, fmt, ap);
	va_end(ap);
	return fmtbuf;
}

/* A string in the metadata or environment: at most max bytes, to the NUL; non-printables become '?'. */
void
probe_string(uint64_t a, uint64_t max, int spaces, char *out, unsigned outmax)
{
	unsigned n = 0;

	for (uint64_t i = 0; i < max && n + 1 < outmax; i++) {
		uint8_t c = rd8(a + i);
		if (c == 0)
			break;
		if (c < 0x20 || c >= 0x7f)
			c = '?';
		else if (c == ' ' && spaces)
			c = '_';
		out[n++] = (char)c;
	}
	out[n] = 0;
}

static int
mem_streq(uint64_t a, uint64_t size, const char *s)
{
	uint64_t i;

	for (i = 0; s[i] != 0; i++)
		if (i >= size || rd8(a + i) != (uint8_t)s[i])
			return 0;
	return i < size && rd8(a + i) == 0;
}

/* ---- CRC-32 (IEEE 802.3, reflected, poly 0xedb88320, init and xorout 0xffffffff: zlib's crc32) ---- */

static uint32_t crc_table[256];

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

/*
 * The CRC of [a, a + n) as kexec delivered it. The probe's own .bss and stack lie inside the kernel file and the
 * probe has written to them since; they were checked to be zero at entry, so they count as zeros.
 */
uint32_t
probe_crc32(uint64_t a, uint64_t n)
{
	uint64_t own0 = rec(__bss_start), own1 = rec(_end);
	uint32_t c = 0xffffffffu;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t at = a + i;
		uint8_t b = (at >= own0 && at < own1) ? 0 : rd8(at);
		c = crc_table[(c ^ b) & 0xff] ^ (c >> 8);
	}
	return c ^ 0xffffffffu;
}

/* ---- the metadata ---- */

struct scan {
	uint64_t	md_end;		/* just past the {0, 0} terminator */
	unsigned	nfiles;
	uint64_t	kaddr, kernend, envp;
	uint32_t	howto;
	int		has_kaddr, has_kernend, has_envp, has_howto, has_ktype;
};

static const char *
need_u64(uint64_t p, uint32_t size, const char *what, uint64_t *out, int *has)
{
	if (size != 8)
		return probe_format("%s record at 0x%x has size 0x%x, not 8", what, p, (uint64_t)size);
	*out = rd64(p + 8);
	*has = 1;
	return 0;
}

/* First pass: structure, bounds and the kernel's own records; nothing printed. */
static const char *
scan(uint64_t modulep, struct scan *s)
{
	uint64_t p = modulep;
	const char *err = 0;

	if ((modulep & 7) != 0)
		return probe_format("modulep 0x%x is not 8-byte aligned", modulep);
	for (unsigned n = 0;; n++, p = next_record(p, rd32(p + 4))) {
		uint32_t type = rd32(p), size = rd32(p + 4);

		if (n == 0 && type != MODINFO_NAME)
			return probe_format("metadata at 0x%x does not start with MODINFO_NAME (type 0x%x)", p, (uint64_t)type);
		if (n >= PROBE_MAX_RECORDS)
			return "runaway: more than 4096 records";	/* PROBE_MAX_RECORDS */
		if (type == MODINFO_END && size == 0) {
			s->md_end = p + 8;
			break;
		}
		if (size > PROBE_MAX_RECORD)
			return probe_format("runaway: record type 0x%x at 0x%x has size 0x%x", (uint64_t)type, p, (uint64_t)size);
		if (type == MODINFO_NAME && ++s->nfiles > PROBE_MAX_FILES)
			return "runaway: more than 64 files";	/* PROBE_MAX_FILES */
		if (s->nfiles != 1)
			continue;
		switch (type) {
		case MODINFO_TYPE:
			if (!mem_streq(p + 8, size, KERNTYPE)) {
				char t[64];
				probe_string(p + 8, size, 0, t, sizeof(t));
				return probe_format("first file's type is \"%s\", not \"%s\"", t, KERNTYPE);
			}
			s->has_ktype = 1;
			break;
		case MODINFO_ADDR:
			err = need_u64(p, size, "kernel MODINFO_ADDR", &s->kaddr, &s->has_kaddr);
			break;
		case MODINFO_METADATA | MODINFOMD_KERNEND:
			err = need_u64(p, size, "MODINFOMD_KERNEND", &s->kernend, &s->has_kernend);
			break;
		case MODINFO_METADATA | MODINFOMD_ENVP:
			err = need_u64(p, size, "MODINFOMD_ENVP", &s->envp, &s->has_envp);
			break;
		case MODINFO_METADATA | MODINFOMD_HOWTO:
			if (size != 4)
				return probe_format("MODINFOMD_HOWTO record at 0x%x has size 0x%x, not 4", p, (uint64_t)size);
			s->howto = rd32(p + 8);
			s->has_howto = 1;
			break;
		}
		if (err != 0)
			return err;
	}
	if (!s->has_ktype)
		return "the first file has no MODINFO_TYPE";
	if (!s->has_kaddr)
		return "the kernel has no MODINFO_ADDR";
	return 0;
}

static int
overlaps(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < b1 && b0 < a1;
}

struct file {
	uint64_t	name, namesz, type, typesz, addr, size;
	int		has_type, has_addr, has_size;
};

static uint64_t file_lo[PROBE_MAX_FILES], file_hi[PROBE_MAX_FILES];

/* Second pass, one file: bounds, overlaps, CRC, the FILE line. */
static void
report_file(const struct file *f, unsigned index, const struct scan *s, uint64_t modulep)
{
	char name[128], type[64];

	probe_string(f->name, f->namesz, 0, name, sizeof(name));
	if (!f->has_type || !f->has_addr || !f->has_size)
		probe_fail("file %s has no MODINFO_%s", name, !f->has_type ? "TYPE" : !f->has_addr ? "ADDR" : "SIZE");
	probe_string(f->type, f->typesz, 1, type, sizeof(type));
	if (f->addr < s->kaddr || f->addr > s->kernend || f->size > s->kernend - f->addr)
		probe_fail("file %s [0x%x, +0x%x) is outside [kernel 0x%x, KERNEND 0x%x)", name, f->addr, f->size, s->kaddr, s->kernend);
	if (overlaps(f->addr, f->addr + f->size, modulep, s->md_end))
		probe_fail("file %s [0x%x, 0x%x) overlaps the metadata [0x%x, 0x%x)", name, f->addr, f->addr + f->size, modulep, s->md_end);
	for (unsigned i = 0; i < index; i++)
		if (overlaps(f->addr, f->addr + f->size, file_lo[i], file_hi[i]))
			probe_fail("file %s [0x%x, 0x%x) overlaps an earlier file [0x%x, 0x%x)", name, f->addr, f->addr + f->size, file_lo[i], file_hi[i]);
	file_lo[index] = f->addr;
	file_hi[index] = f->addr + f->size;
	probe_print("PROBE FILE name=%s type=%s addr=0x%x size=0x%x crc32=0x%08x\n", name, type, f->addr, f->size,
	    (uint64_t)probe_crc32(f->addr, f->size));
}

static void
report_files(uint64_t modulep, const struct scan *s)
{
	struct file f = {0};
	unsigned index = 0;
	int open = 0;

	for (uint64_t p = modulep;; p = next_record(p, rd32(p + 4))) {
		uint32_t type = rd32(p), size = rd32(p + 4);

		if (type == MODINFO_NAME || (type == MODINFO_END && size == 0)) {
			if (open)
				report_file(&f, index++, s, modulep);
			if (type == MODINFO_END)
				return;
			f = (struct file){.name = p + 8, .namesz = size};
			open = 1;
		} else if (type == MODINFO_TYPE) {
			f.type = p + 8;
			f.typesz = size;
			f.has_type = 1;
		} else if (type == MODINFO_ADDR || type == MODINFO_SIZE) {
			if (size != 8)
				probe_fail("MODINFO_%s record at 0x%x has size 0x%x, not 8", type == MODINFO_ADDR ? "ADDR" : "SIZE", p, (uint64_t)size);
			if (type == MODINFO_ADDR) {
				f.addr = rd64(p + 8);
				f.has_addr = 1;
			} else {
				f.size = rd64(p + 8);
				f.has_size = 1;
			}
		}
	}
}

/* The environment (stand/common/modinfo.c md_copyenv): "name=value\0" ..., then "\0". */
static void
report_env(uint64_t modulep, const struct scan *s)
{
	uint64_t a = s->envp;

	if (a < s->kaddr || a >= s->kernend)
		probe_fail("ENVP 0x%x is outside [kernel 0x%x, KERNEND 0x%x)", a, s->kaddr, s->kernend);
	while (rd8(a) != 0) {
		uint64_t len = 0;
		char line[PROBE_ENV_LINE];

		while (a + len < s->kernend && rd8(a + len) != 0)
			len++;
		if (a + len >= s->kernend)
			probe_fail("environment at 0x%x is not terminated before KERNEND 0x%x", s->envp, s->kernend);
		probe_string(a, len, 0, line, sizeof(line));
		probe_print("PROBE ENV %s\n", line);
		a += len + 1;
		if (a >= s->kernend)
			probe_fail("environment at 0x%x is not terminated before KERNEND 0x%x", s->envp, s->kernend);
	}
	if (overlaps(s->envp, a + 1, modulep, s->md_end))
		probe_fail("environment [0x%x, 0x%x) overlaps the metadata [0x%x, 0x%x)", s->envp, a + 1, modulep, s->md_end);
	for (unsigned i = 0; i < s->nfiles; i++)
		if (overlaps(s->envp, a + 1, file_lo[i], file_hi[i]))
			probe_fail("environment [0x%x, 0x%x) overlaps a file [0x%x, 0x%x)", s->envp, a + 1, file_lo[i], file_hi[i]);
}

uint64_t
probe_bss_dirty(void)
{
	for (const volatile uint64_t *p = (const uint64_t *)__bss_start; p < (const uint64_t *)__bss_end; p++)
		if (*p != 0)
			return (uint64_t)(uintptr_t)p;
	return 0;
}

void
probe_main(const struct probe_entry *e)
{
	struct scan s = {0};
	const char *err = e->fail;

	crc_init();
	md_putc('\n');		/* firmware may leave the cursor mid-line (SeaBIOS: "Booting from ROM..") */
	if (e->has_kernend)
		probe_print("PROBE BEGIN arch=%s modulep=0x%x kernend=0x%x\n", md_arch, e->modulep, e->kernend);
	if (err == 0)
		err = scan(e->modulep, &s);
	if (!e->has_kernend)
		probe_print("PROBE BEGIN arch=%s modulep=0x%x kernend=0x%x\n", md_arch, e->modulep, s.kernend);
	if (err != 0)
		probe_fail("%s", err);

	if (!s.has_kernend)
		probe_fail("no MODINFOMD_KERNEND record");
	if ((s.kernend & 0xfff) != 0)
		probe_fail("KERNEND 0x%x is not page-aligned", s.kernend);
	if (e->has_kernend && e->kernend != s.kernend)
		probe_fail("kernend on the stack 0x%x differs from the KERNEND record 0x%x", e->kernend, s.kernend);
	if (e->modulep < s.kaddr || s.md_end > s.kernend)
		probe_fail("metadata [0x%x, 0x%x) is outside [kernel 0x%x, KERNEND 0x%x)", e->modulep, s.md_end, s.kaddr, s.kernend);
	if (!s.has_envp)
		probe_fail("no MODINFOMD_ENVP record");
	if (!s.has_howto)
		probe_fail("no MODINFOMD_HOWTO record");

	report_files(e->modulep, &s);
	report_env(e->modulep, &s);
	probe_report_items(e->modulep, s.envp);
	probe_check_dynamic(e->modulep);
	probe_print("PROBE HOWTO 0x%x\n", (uint64_t)s.howto);
	probe_print("PROBE KERNEND 0x%x\n", s.kernend);
	probe_print("PROBE OK\n");
	md_poweroff(1);
}
