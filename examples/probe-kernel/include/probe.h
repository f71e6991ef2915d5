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
#define MODINFOMD_KERNEND	0x0008

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

/* probe.c */
void probe_main(const struct probe_entry *e) __attribute__((__noreturn__));
void probe_fail(const char *fmt, ...) __attribute__((__noreturn__));
const char *probe_format(const char *fmt, ...);	/* into a static buffer, for probe_entry.fail */
void probe_print(const char *fmt, ...);
/* Where .bss (not the stack) is not zero, as a pointer; 0 if it is all zero. Call before writing .bss. */
uint64_t probe_bss_dirty(void);

/* The linker script's bounds of the probe's own writable state (the stack is checked by locore). */
extern char __bss_start[], __bss_end[], probe_stack[], _end[];

#endif
