/*
 * Interface between the arch-neutral probe (kernel/probe.c) and each architecture's machdep.c, plus the preload
 * metadata constants it checks (sys/sys/linker.h MODINFO_*, MODINFOMD_*; stand/common/modinfo.c record format).
 */
#ifndef PROBE_H
#define PROBE_H

#include <stdarg.h>
#include <stdint.h>

/* sys/sys/linker.h */
#define MODINFO_END		0x0000
#define MODINFO_NAME		0x0001
#define MODINFO_TYPE		0x0002
#define MODINFO_ADDR		0x0003
#define MODINFO_SIZE		0x0004
#define MODINFO_ARGS		0x0006
#define MODINFO_METADATA	0x8000
#define MODINFOMD_ENVP		0x0006
#define MODINFOMD_HOWTO		0x0007
#define MODINFOMD_DYNAMIC	0x0005
#define MODINFOMD_KERNEND	0x0008
#define MODINFOMD_FW_HANDLE	0x000c
/* sys/x86/include/metadata.h and sys/arm64/include/metadata.h: the machine-dependent numbers differ. */
#if defined(__x86_64__)
#define MODINFOMD_SMAP		0x1001
#define MODINFOMD_EFI_MAP	0x1004
#elif defined(__aarch64__)
#define MODINFOMD_EFI_MAP	0x1001
#define MODINFOMD_DTBP		0x1002
#endif

/* An environment line: KENV_MNAMELEN + 1 + KENV_MVALLEN (128 each, sys/sys/kenv.h) and a NUL, with room to spare. */
#define PROBE_ENV_LINE		320

/* Bounds past which the walk is treated as running away through garbage. */
#define PROBE_MAX_FILES		64
#define PROBE_MAX_RECORD	(1u << 20)
#define PROBE_MAX_RECORDS	4096

/* What the entry code saw; machdep fills it before anything else runs. */
struct probe_entry {
	uint64_t	modulep;	/* as handed over: amd64 4(%rsp), arm64 x0 */
	uint64_t	kernend;	/* amd64 8(%rsp); arm64: 0 (taken from the KERNEND record) */
	int		has_kernend;
	const char	*fail;		/* a broken entry condition, or 0 */
};

/* machdep.c */
extern const char md_arch[];
extern uint64_t md_offset;		/* recorded address + md_offset = a pointer the probe can dereference */
void md_putc(int c);
void md_poweroff(int ok) __attribute__((__noreturn__));

/* Loader memory: a recorded address + md_offset is a pointer. Aligned loads only (arm64 runs with the MMU off). */
static inline const volatile uint8_t *
probe_ptr(uint64_t addr)
{
	return (const volatile uint8_t *)(uintptr_t)(addr + md_offset);
}

static inline uint8_t probe_rd8(uint64_t a) { return *probe_ptr(a); }
static inline uint32_t probe_rd32(uint64_t a) { return *(const volatile uint32_t *)probe_ptr(a); }
static inline uint64_t probe_rd64(uint64_t a) { return *(const volatile uint64_t *)probe_ptr(a); }

/* The record after the one at p: {u32 type; u32 size; data} padded to 8 (sys/kern/subr_module.c). */
static inline uint64_t
probe_next_record(uint64_t p, uint32_t size)
{
	return p + ((8 + (uint64_t)size + 7) & ~(uint64_t)7);
}

/* probe.c */
void probe_main(const struct probe_entry *e) __attribute__((__noreturn__));
void probe_fail(const char *fmt, ...) __attribute__((__noreturn__));
const char *probe_format(const char *fmt, ...);	/* into a static buffer, for probe_entry.fail */
void probe_print(const char *fmt, ...);
/* A string at a recorded address, at most max bytes, to the NUL; non-printables become '?', spaces '_' if asked. */
void probe_string(uint64_t a, uint64_t max, int spaces, char *out, unsigned outmax);
uint32_t probe_crc32(uint64_t a, uint64_t n);

/* handoff_items.c: what the kernel reads from the environment and its own metadata (root, ACPI, hints, memory
 * map, EFI system table); called once the walk has checked the metadata and the environment block. */
void probe_report_items(uint64_t modulep, uint64_t envp);
/* The kernel's own metadata record MODINFO_METADATA | inf: its data's recorded address (0 if none), *size. */
uint64_t probe_search_info(uint64_t modulep, uint32_t inf, uint32_t *size);

/* link_self.c: the kernel linker's view of the probe's own dynamic section (sys/kern/link_elf.c link_elf_init). */
void probe_check_dynamic(uint64_t modulep);
/* Where .bss (not the stack) is not zero, as a pointer; 0 if it is all zero. Call before writing .bss. */
uint64_t probe_bss_dirty(void);

/* The linker script's bounds of the probe's own writable state (the stack is checked by locore). */
extern char __bss_start[], __bss_end[], probe_stack[], _end[];

#endif
