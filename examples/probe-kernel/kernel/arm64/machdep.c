/*
 * arm64 side of the probe: what _start's callers must provide (sys/arm64/arm64/locore.S, machdep_boot.c), the
 * PL011 console of QEMU's virt machine, exception reporting, and PSCI SYSTEM_OFF.
 *
 * The MMU is off: every access is to Device memory, so only aligned accesses (-mstrict-align) and no absolute
 * pointers from data (the code runs at its physical address, the image is linked at KERNBASE).
 */
#include "probe.h"

#define KERNBASE	0xffff000000000000ull	/* sys/arm64/include/vmparam.h VM_MIN_KERNEL_ADDRESS */
#define L2_SIZE		0x200000ull		/* locore maps the kernel with 2 MiB L2 blocks */
#define L1_SIZE		0x40000000ull		/* ... from a single L2 table: 1 GiB */
#define SCTLR_M		(1ull << 0)
#define SCTLR_C		(1ull << 2)

#define UART0		0x09000000ul		/* QEMU virt: PL011 UART0 */
#define UART_DR		0x00
#define UART_FR		0x18
#define UART_FR_TXFF	(1u << 5)
#define PSCI_SYSTEM_OFF	0x84000008ul		/* PSCI 0.2 SYSTEM_OFF (SMC32 function id) */

const char md_arch[] = "arm64";
uint64_t md_offset;		/* PA(_start) - VA(_start) */
static uint64_t md_el;

void
md_putc(int c)
{
	for (int spin = 0; spin < 1000000 && (*(volatile uint32_t *)(UART0 + UART_FR) & UART_FR_TXFF) != 0; spin++)
		;
	*(volatile uint32_t *)(UART0 + UART_DR) = (uint32_t)(uint8_t)c;
}

/*
 * PSCI has no exit status: the verdict is the last console line. QEMU virt handles PSCI calls itself, by HVC
 * when the guest has no EL2/EL3 and by SMC when it runs the guest at EL2.
 */
void
md_poweroff(int ok)
{
	register uint64_t x0 __asm__("x0") = PSCI_SYSTEM_OFF;

	(void)ok;
	if (md_el == 2)
		__asm__ __volatile__("smc #0" : "+r"(x0) : : "memory");
	else
		__asm__ __volatile__("hvc #0" : "+r"(x0) : : "memory");
	for (;;)
		__asm__ __volatile__("wfi");
}

void md_exception(uint64_t vector, uint64_t esr, uint64_t elr, uint64_t far) __attribute__((__noreturn__));

void
md_exception(uint64_t vector, uint64_t esr, uint64_t elr, uint64_t far)
{
	probe_fail("exception vector=0x%x esr=0x%x elr=0x%x far=0x%x", vector, esr, elr, far);
}

/*
 * The entry conditions of sys/arm64/arm64/locore.S: EL1 or EL2 (enter_kernel_el), "MMU on with an identity map,
 * or off; D-Cache off" (kexec's kexec_reboot_bottom turns both off), loaded at a 2 MiB aligned physical address
 * (get_load_phys_addr computes PA(KERNBASE) from the PC and maps it with L2 blocks), and x0 a kernel VA: under
 * LINUX_BOOT_ABI an x0 below KERNBASE is taken for the physical address of a DTB. locore maps the kernel,
 * modules and metadata from one L2 table, so all of it must lie within 1 GiB of KERNBASE.
 */
static const char *
check_entry(uint64_t modulep, uint64_t el, uint64_t sctlr, uint64_t pa_start, uint64_t va_start)
{
	uint64_t pa_kernbase = pa_start - (va_start - KERNBASE);

	if (el != 1 && el != 2)
		return probe_format("entered at EL%x, not EL1 or EL2", el);
	if ((sctlr & SCTLR_M) != 0)
		return probe_format("MMU on at entry (SCTLR_EL%x 0x%x); kexec enters with it off", el, sctlr);
	if ((sctlr & SCTLR_C) != 0)
		return probe_format("D-cache on at entry (SCTLR_EL%x 0x%x); locore.S needs it off", el, sctlr);
	if ((pa_kernbase & (L2_SIZE - 1)) != 0)
		return probe_format("KERNBASE is at physical 0x%x, not 2 MiB aligned (_start at physical 0x%x)", pa_kernbase, pa_start);
	if (modulep < KERNBASE)
		return probe_format("x0 0x%x is below KERNBASE: not a kernel virtual address (locore.S would take it for a DTB)", modulep);
	if (modulep - KERNBASE >= L1_SIZE)
		return probe_format("modulep 0x%x is not within 1 GiB of KERNBASE (locore.S maps one L2 table)", modulep);
	return 0;
}

void md_entry(uint64_t modulep, uint64_t el, uint64_t sctlr, uint64_t pa_start, uint64_t va_start,
    uint64_t stack_dirty) __attribute__((__noreturn__));

void
md_entry(uint64_t modulep, uint64_t el, uint64_t sctlr, uint64_t pa_start, uint64_t va_start, uint64_t stack_dirty)
{
	struct probe_entry e = {modulep, 0, 0, 0};
	uint64_t dirty = probe_bss_dirty();	/* before anything writes .bss */

	md_offset = pa_start - va_start;
	md_el = el;
	if (dirty)
		e.fail = probe_format(".bss is not zero at 0x%x (kexec zero-fills p_memsz)", dirty - md_offset);
	else if (stack_dirty != 0)
		e.fail = "the stack in .bss is not zero (kexec zero-fills p_memsz)";
	else
		e.fail = check_entry(modulep, el, sctlr, pa_start, va_start);
	probe_main(&e);
}
