/*
 * The hand-off items a FreeBSD kernel takes from the loader besides its files, found the way the kernel finds them
 * and reported one line each (the protocol is in ../README.md):
 *   - the environment through kern_getenv() before the dynamic kenv exists, i.e. _getenv_static_from() of
 *     sys/kern/kern_environment.c: entries without '=' are skipped, the first "name=" wins;
 *   - vfs.root.mountfrom as sys/kern/vfs_mountroot.c vfs_mountroot_conf0() splits it (parse_token: runs of
 *     characters other than space, tab and newline), one ROOT line per candidate the kernel would try;
 *   - acpi.rsdp as sys/x86/acpica/OsdEnvironment.c acpi_get_root_from_loader() reads it: TUNABLE_ULONG_FETCH, i.e.
 *     getenv_quad() (strtoq base 0, at most one k/m/g/t suffix, anything else and the kernel ignores the variable);
 *   - hints: every "hint." variable (sys/kern/subr_hints.c looks them up by that prefix);
 *   - the memory map record in the kernel's metadata, searched as preload_search_info() (sys/kern/subr_module.c)
 *     does, in the order the kernel asks: amd64 EFI_MAP then SMAP (sys/amd64/amd64/machdep.c native_parse_memmap),
 *     arm64 EFI_MAP else the DTB (sys/arm64/arm64/machdep.c initarm); an EFI map is read as add_efi_map_entries()
 *     does: struct efi_map_header, descriptors from the 16-byte rounded header size, descriptor_size apart;
 *   - MODINFOMD_FW_HANDLE, the EFI system table's physical address (efirt.c, efi_systbl_phys).
 */
#include "probe.h"

#define EFI_MAP_HEADER	32	/* roundup2(sizeof(struct efi_map_header) = 24, 16) */
#define BIOS_SMAP_SIZE	20	/* packed struct bios_smap { u64 base; u64 length; u32 type; } */

/* preload_search_info(kernel, MODINFO_METADATA | type): the record's data address, or 0; *size its size. */
uint64_t
probe_search_info(uint64_t modulep, uint32_t inf, uint32_t *size)
{
	uint32_t first = 0;

	for (uint64_t p = modulep;; p = probe_next_record(p, probe_rd32(p + 4))) {
		uint32_t type = probe_rd32(p), sz = probe_rd32(p + 4);

		if (type == MODINFO_END && sz == 0)
			return 0;
		if (first == 0)
			first = type;
		else if (type == first)
			return 0;	/* the next file's MODINFO_NAME */
		if (type == (MODINFO_METADATA | inf)) {
			*size = sz;
			return p + 8;
		}
	}
}

/* _getenv_static_from(envp, name): the value's address, or 0. The block was checked to end before KERNEND. */
static uint64_t
getenv_static(uint64_t envp, const char *name)
{
	for (uint64_t cp = envp; probe_rd8(cp) != 0;) {
		uint64_t ep = cp;

		while (probe_rd8(ep) != '=' && probe_rd8(ep) != 0)
			ep++;
		if (probe_rd8(ep) == '=') {
			uint64_t i = 0;
			while (cp + i < ep && name[i] != 0 && probe_rd8(cp + i) == (uint8_t)name[i])
				i++;
			if (cp + i == ep && name[i] == 0)
				return ep + 1;
		}
		while (probe_rd8(ep) != 0)
			ep++;
		cp = ep + 1;
	}
	return 0;
}

static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* vfs_mountroot_conf0: one candidate ("fstype:device") per whitespace-separated token. */
static void
report_root(uint64_t envp)
{
	uint64_t v = getenv_static(envp, "vfs.root.mountfrom");

	if (v == 0)
		return;
	for (;;) {
		char tok[256];
		uint64_t n = 0;

		while (probe_rd8(v) != 0 && is_space(probe_rd8(v)))
			v++;
		if (probe_rd8(v) == 0)
			return;
		while (probe_rd8(v + n) != 0 && !is_space(probe_rd8(v + n)))
			n++;
		probe_string(v, n, 0, tok, sizeof(tok));
		probe_print("PROBE ROOT %s\n", tok);
		v += n;
	}
}

static int
digit_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* getenv_quad(): strtoq(value, &end, 0) (clamped to QUAD_MAX/QUAD_MIN), then one optional k/m/g/t suffix. */
static int
getenv_quad(uint64_t v, uint64_t *out)
{
	uint64_t s = v, acc = 0, limit;
	int neg = 0, any = 0, over = 0, base = 10, shift = 0;

	while (probe_rd8(s) == ' ' || (probe_rd8(s) >= '\t' && probe_rd8(s) <= '\r'))
		s++;
	if (probe_rd8(s) == '-' || probe_rd8(s) == '+')
		neg = probe_rd8(s++) == '-';
	if (probe_rd8(s) == '0' && (probe_rd8(s + 1) == 'x' || probe_rd8(s + 1) == 'X')) {
		base = 16;
		s += 2;
	} else if (probe_rd8(s) == '0') {
		base = 8;
	}
	limit = neg ? (1ull << 63) : (1ull << 63) - 1;
	for (int d; (d = digit_value(probe_rd8(s))) < base; s++) {
		any = 1;
		if (over || acc > (limit - (uint64_t)d) / (uint64_t)base)
			over = 1;
		else
			acc = acc * (uint64_t)base + (uint64_t)d;
	}
	if (over)
		acc = limit;
	if (!any)
		return 0;	/* strtoq's end pointer is the start: vtp == value */
	switch (probe_rd8(s)) {
	case 't': case 'T': shift += 10;	/* FALLTHROUGH */
	case 'g': case 'G': shift += 10;	/* FALLTHROUGH */
	case 'm': case 'M': shift += 10;	/* FALLTHROUGH */
	case 'k': case 'K': shift += 10;
		if (probe_rd8(s + 1) != 0)
			return 0;
		break;
	case 0:
		break;
	default:
		return 0;
	}
	*out = (neg ? -acc : acc) << shift;
	return 1;
}

static void
report_acpi(uint64_t envp)
{
	uint64_t v = getenv_static(envp, "acpi.rsdp"), rsdp;

	if (v == 0)
		return;
	if (getenv_quad(v, &rsdp))
		probe_print("PROBE ACPI rsdp=0x%x\n", rsdp);
	else
		probe_print("PROBE ACPI rsdp=invalid\n");
}

static void
report_hints(uint64_t envp)
{
	for (uint64_t cp = envp; probe_rd8(cp) != 0;) {
		uint64_t len = 0;
		char line[PROBE_ENV_LINE];

		while (probe_rd8(cp + len) != 0)
			len++;
		if (probe_rd8(cp) == 'h' && probe_rd8(cp + 1) == 'i' && probe_rd8(cp + 2) == 'n' &&
		    probe_rd8(cp + 3) == 't' && probe_rd8(cp + 4) == '.') {
			probe_string(cp, len, 0, line, sizeof(line));
			probe_print("PROBE HINT %s\n", line);
		}
		cp += len + 1;
	}
}

static void
report_efi_map(uint64_t data, uint32_t size)
{
	uint64_t memsz, descsz;

	if (size < EFI_MAP_HEADER)
		probe_fail("MODINFOMD_EFI_MAP has size 0x%x, less than its 0x%x-byte header", (uint64_t)size, (uint64_t)EFI_MAP_HEADER);
	memsz = probe_rd64(data);
	descsz = probe_rd64(data + 8);
	/* add_efi_map_entries() returns on descriptor_size 0; a size that is not 8-aligned would fault on arm64. */
	if (descsz == 0 || (descsz & 7) != 0)
		probe_fail("MODINFOMD_EFI_MAP descriptor_size 0x%x is 0 or not a multiple of 8", descsz);
	if (memsz > size - EFI_MAP_HEADER)
		probe_fail("MODINFOMD_EFI_MAP memory_size 0x%x runs past the record's 0x%x bytes", memsz, (uint64_t)size);
	probe_print("PROBE MEMMAP name=EFI_MAP type=0x%x size=0x%x entries=0x%x crc32=0x%08x\n",
	    (uint64_t)MODINFOMD_EFI_MAP, (uint64_t)size, memsz / descsz,
	    (uint64_t)probe_crc32(data, size));
}

static void
report_memmap(uint64_t modulep)
{
	uint32_t size = 0;
	uint64_t data = probe_search_info(modulep, MODINFOMD_EFI_MAP, &size);

	if (data != 0) {
		report_efi_map(data, size);
		return;
	}
#if defined(__x86_64__)
	data = probe_search_info(modulep, MODINFOMD_SMAP, &size);
	if (data == 0)
		probe_fail("no MODINFOMD_EFI_MAP or MODINFOMD_SMAP record (native_parse_memmap panics)");
	probe_print("PROBE MEMMAP name=SMAP type=0x%x size=0x%x entries=0x%x crc32=0x%08x\n",
	    (uint64_t)MODINFOMD_SMAP, (uint64_t)size, (uint64_t)(size / BIOS_SMAP_SIZE),
	    (uint64_t)probe_crc32(data, size));
#else
	if (probe_search_info(modulep, MODINFOMD_DTBP, &size) == 0)
		probe_fail("no MODINFOMD_EFI_MAP or MODINFOMD_DTBP record (initarm cannot find physical memory)");
#endif
}

static void
report_fw_handle(uint64_t modulep)
{
	uint32_t size = 0;
	uint64_t data = probe_search_info(modulep, MODINFOMD_FW_HANDLE, &size);

	if (data == 0)
		return;
	if (size != 8)
		probe_fail("MODINFOMD_FW_HANDLE has size 0x%x, not 8", (uint64_t)size);
	probe_print("PROBE FW_HANDLE 0x%x\n", probe_rd64(data));
}

void
probe_report_items(uint64_t modulep, uint64_t envp)
{
	report_root(envp);
	report_acpi(envp);
	report_hints(envp);
	report_memmap(modulep);
	report_fw_handle(modulep);
}
