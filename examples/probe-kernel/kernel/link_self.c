/*
 * The probe's own dynamic section, used the way the kernel linker uses a kernel's (sys/kern/link_elf.c):
 * link_elf_init() takes &_DYNAMIC, parse_dynamic() reads DT_HASH, DT_SYMTAB, DT_STRTAB and DT_STRSZ from it, and
 * link_elf_lookup_symbol() finds a name through elf_hash() and the bucket chains. That is how modules loaded later
 * resolve the kernel's symbols, so a kernel linked without PT_DYNAMIC could load none.
 *
 * The dynamic section's pointers are link addresses; the loader's MODINFOMD_DYNAMIC record holds _DYNAMIC's link
 * address (load_elf.c adds PT_DYNAMIC's raw p_vaddr), so the difference from where the probe finds _DYNAMIC turns
 * them into pointers on both architectures (amd64 runs at its link address, arm64 at its physical one).
 * The check: __start_set_modmetadata_set and __stop_set_modmetadata_set, looked up by name, are where the probe's
 * own code finds them. Nothing is printed; a failure is a PROBE FAIL naming what broke.
 */
#include "probe.h"

#define DT_NULL		0
#define DT_HASH		4
#define DT_STRTAB	5
#define DT_SYMTAB	6
#define DT_STRSZ	10
#define SHN_UNDEF	0

struct dyn {
	int64_t		d_tag;
	uint64_t	d_val;
};

struct sym {			/* Elf64_Sym */
	uint32_t	st_name;
	uint8_t		st_info;
	uint8_t		st_other;
	uint16_t	st_shndx;
	uint64_t	st_value;
	uint64_t	st_size;
};

extern const struct dyn _DYNAMIC[];		/* defined by the linker in a dynamic link */
extern char __start_set_modmetadata_set[], __stop_set_modmetadata_set[];

struct table {
	const volatile uint32_t	*hash;		/* nbucket, nchain, buckets[], chains[] */
	const volatile struct sym *symtab;
	const volatile char	*strtab;
	uint64_t		strsz;
};

/* sys/kern/link_elf.c elf_hash (the gABI hash). */
static uint32_t
elf_hash(const char *name)
{
	uint32_t h = 0, g;

	for (const unsigned char *p = (const unsigned char *)name; *p != 0; p++) {
		h = (h << 4) + *p;
		if ((g = h & 0xf0000000) != 0)
			h ^= g >> 24;
		h &= ~g;
	}
	return h;
}

static int
name_is(const struct table *t, uint32_t off, const char *name)
{
	uint64_t i;

	for (i = 0; name[i] != 0; i++)
		if (off + i >= t->strsz || t->strtab[off + i] != name[i])
			return 0;
	return off + i < t->strsz && t->strtab[off + i] == 0;
}

/* link_elf_lookup_symbol: the symbol's link address, or 0. */
static uint64_t
lookup(const struct table *t, const char *name)
{
	uint32_t nbucket = t->hash[0], nchain = t->hash[1];
	uint32_t i = t->hash[2 + elf_hash(name) % nbucket];

	for (uint32_t steps = 0; i != 0 && steps <= nchain; steps++) {
		if (i >= nchain)
			probe_fail("_DYNAMIC: the DT_HASH chain for %s reaches index 0x%x, past nchain 0x%x", name, (uint64_t)i, (uint64_t)nchain);
		if (name_is(t, t->symtab[i].st_name, name))
			return t->symtab[i].st_shndx == SHN_UNDEF ? 0 : t->symtab[i].st_value;
		i = t->hash[2 + nbucket + i];
	}
	return 0;
}

static void
expect_at(const struct table *t, uint64_t delta, const char *name, const void *where)
{
	uint64_t v = lookup(t, name);

	if (v == 0)
		probe_fail("_DYNAMIC: %s is not in the DT_HASH table (the kernel linker could not resolve it)", name);
	if (v + delta != (uint64_t)(uintptr_t)where)
		probe_fail("_DYNAMIC: %s is at link address 0x%x, which is not where the probe finds it", name, v);
}

void
probe_check_dynamic(uint64_t modulep)
{
	struct table t = {0};
	uint32_t size = 0;
	uint64_t rec = probe_search_info(modulep, MODINFOMD_DYNAMIC, &size), delta;

	if (rec == 0)
		probe_fail("no MODINFOMD_DYNAMIC record (the kernel was not linked with PT_DYNAMIC)");
	if (size != 8)
		probe_fail("MODINFOMD_DYNAMIC has size 0x%x, not 8", (uint64_t)size);
	delta = (uint64_t)(uintptr_t)_DYNAMIC - probe_rd64(rec);
	if ((delta & 0xfff) != 0)
		probe_fail("MODINFOMD_DYNAMIC 0x%x is not _DYNAMIC's link address (the probe finds it at 0x%x)", probe_rd64(rec),
		    (uint64_t)(uintptr_t)_DYNAMIC);
	for (const volatile struct dyn *d = _DYNAMIC; d->d_tag != DT_NULL; d++) {
		const volatile void *p = (const volatile void *)(uintptr_t)(d->d_val + delta);
		if (d->d_tag == DT_HASH)
			t.hash = p;
		else if (d->d_tag == DT_SYMTAB)
			t.symtab = p;
		else if (d->d_tag == DT_STRTAB)
			t.strtab = p;
		else if (d->d_tag == DT_STRSZ)
			t.strsz = d->d_val;
	}
	if (t.hash == 0 || t.symtab == 0 || t.strtab == 0 || t.strsz == 0 || t.hash[0] == 0)
		probe_fail("_DYNAMIC lacks DT_HASH, DT_SYMTAB, DT_STRTAB or DT_STRSZ (link_elf.c parse_dynamic)");
	expect_at(&t, delta, "__start_set_modmetadata_set", __start_set_modmetadata_set);
	expect_at(&t, delta, "__stop_set_modmetadata_set", __stop_set_modmetadata_set);
}
