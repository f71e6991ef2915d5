/*
 * amd64 side of the probe: what btext's callers must provide (sys/amd64/amd64/locore.S, machdep.c hammer_time and
 * amd64_loadaddr), the COM1 console, an IDT that reports faults, and QEMU's isa-debug-exit for power-off.
 */
#include "probe.h"

#define KERNBASE	0xffffffff80000000ull	/* sys/amd64/include/vmparam.h */
#define KERNSTART	(KERNBASE + 0x200000ull)	/* KERNBASE + NBPDR */
#define NBPDR		0x200000ull
#define PG_V		0x001ull
#define PG_PS		0x080ull
#define PG_FRAME	0x000ffffffffff000ull
#define PSL_I		0x200ull		/* RFLAGS.IF */
#define CR4_LA57	(1ull << 12)

#define COM1		0x3f8
#define DEBUG_EXIT	0xf4			/* QEMU -device isa-debug-exit,iobase=0xf4 */

const char md_arch[] = "amd64";
uint64_t md_offset;

/*
 * sys/amd64/amd64/pmap.c: `vm_paddr_t kernphys`, the physical address of KERNSTART. kexec-ts refuses amd64 kernels
 * without this symbol (the loader's sign that the kernel can run away from physical 2 MiB); the probe sets it the
 * way hammer_time does.
 */
uint64_t kernphys;

static inline void
outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t
inb(uint16_t port)
{
	uint8_t v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* 16550 at COM1: 115200 8N1, no FIFO interrupts; then poll LSR.THRE (bit 5) before each byte. */
static void
uart_init(void)
{
	outb(COM1 + 1, 0x00);		/* IER: no interrupts */
	outb(COM1 + 3, 0x80);		/* LCR: DLAB */
	outb(COM1 + 0, 0x01);		/* DLL: 115200 */
	outb(COM1 + 1, 0x00);		/* DLM */
	outb(COM1 + 3, 0x03);		/* LCR: 8N1 */
	outb(COM1 + 2, 0x07);		/* FCR: enable and clear FIFOs */
	outb(COM1 + 4, 0x03);		/* MCR: DTR, RTS */
}

void
md_putc(int c)
{
	for (int spin = 0; spin < 1000000 && (inb(COM1 + 5) & 0x20) == 0; spin++)
		;
	outb(COM1, (uint8_t)c);
}

void
md_poweroff(int ok)
{
	/* isa-debug-exit: QEMU exits with status (value << 1) | 1, so 0x21 after OK, 0x23 after FAIL. */
	outb(DEBUG_EXIT, ok ? 0x10 : 0x11);
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

/* ---- an IDT for vectors 0-31, so that a fault is reported instead of triple-faulting ---- */

struct gate {
	uint16_t	off0, sel;
	uint8_t		ist, type;
	uint16_t	off1;
	uint32_t	off2, zero;
};

static struct gate idt[32] __attribute__((__aligned__(16)));
extern char md_vectors[];

static void
idt_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((__packed__)) idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
	uint16_t cs;

	__asm__ __volatile__("mov %%cs, %0" : "=r"(cs));
	for (int i = 0; i < 32; i++) {
		uint64_t h = (uint64_t)(uintptr_t)md_vectors + 16 * (uint64_t)i;
		idt[i] = (struct gate){(uint16_t)h, cs, 0, 0x8e, (uint16_t)(h >> 16), (uint32_t)(h >> 32), 0};
	}
	__asm__ __volatile__("lidt %0" : : "m"(idtr));
}

void md_exception(uint64_t vector, uint64_t error, uint64_t rip, uint64_t cr2) __attribute__((__noreturn__));

void
md_exception(uint64_t vector, uint64_t error, uint64_t rip, uint64_t cr2)
{
	probe_fail("exception vector=0x%x error=0x%x rip=0x%x cr2=0x%x", vector, error, rip, cr2);
}

/*
 * The entry conditions hammer_time relies on. amd64_loadaddr() walks CR3 -> PML4[511] -> PDPT[510] -> PD[1] for
 * KERNSTART, dereferencing each table at its physical address (so the tables must be reachable through the 1:1
 * map of the low 4 GiB), and takes the 2 MiB leaf's frame as kernphys; the probe does the same and then compares
 * its own first bytes through KERNSTART and through kernphys in the 1:1 map.
 */
static const char *
check_entry(uint64_t rflags, uint64_t modulep, uint64_t kernend)
{
	uint64_t cr3, cr4, e;

	if ((rflags & PSL_I) != 0)
		return probe_format("interrupts enabled at entry (RFLAGS 0x%x)", rflags);
	__asm__ __volatile__("mov %%cr3, %0; mov %%cr4, %1" : "=r"(cr3), "=r"(cr4));
	if ((cr4 & CR4_LA57) != 0)
		return probe_format("5-level paging at entry (CR4 0x%x)", cr4);
	if ((cr3 & 0xfff) != 0 || cr3 >= (1ull << 32))
		return probe_format("CR3 0x%x is not a page-aligned address below 4 GiB (amd64_loadaddr uses it as a pointer)", cr3);
	e = ((const volatile uint64_t *)(uintptr_t)cr3)[511];
	if ((e & PG_V) == 0 || (e & PG_FRAME) >= (1ull << 32))
		return probe_format("PML4[511] 0x%x: not present or above 4 GiB", e);
	e = ((const volatile uint64_t *)(uintptr_t)(e & PG_FRAME))[510];
	if ((e & PG_V) == 0 || (e & PG_PS) != 0 || (e & PG_FRAME) >= (1ull << 32))
		return probe_format("PDPT[510] 0x%x: not present, a 1 GiB page, or above 4 GiB", e);
	e = ((const volatile uint64_t *)(uintptr_t)(e & PG_FRAME))[1];
	if ((e & PG_V) == 0 || (e & PG_PS) == 0)
		return probe_format("PD[1] 0x%x for KERNSTART is not a present 2 MiB page", e);
	kernphys = e & PG_FRAME;
	if ((kernphys & (NBPDR - 1)) != 0 || kernphys >= (1ull << 32))
		return probe_format("kernphys 0x%x is not 2 MiB aligned below 4 GiB", kernphys);
	for (uint64_t i = 0; i < 0x1000; i += 8)
		if (*(const volatile uint64_t *)(uintptr_t)(KERNSTART + i) != *(const volatile uint64_t *)(uintptr_t)(kernphys + i))
			return probe_format("KERNSTART+0x%x and physical 0x%x (through the 1:1 map) differ", i, kernphys + i);
	if (modulep < 0x200000 || modulep >= kernend || kernend > 0x80000000)
		return probe_format("modulep 0x%x / kernend 0x%x: not 0x200000 <= modulep < kernend <= 2 GiB", modulep, kernend);
	return 0;
}

void md_entry(uint64_t modulep, uint64_t kernend, uint64_t rflags, uint64_t stack_dirty) __attribute__((__noreturn__));

void
md_entry(uint64_t modulep, uint64_t kernend, uint64_t rflags, uint64_t stack_dirty)
{
	struct probe_entry e = {modulep, kernend, 1, 0};
	uint64_t dirty = probe_bss_dirty();	/* before anything writes .bss */

	md_offset = KERNBASE;
	uart_init();
	idt_init();
	if (dirty)
		e.fail = probe_format(".bss is not zero at 0x%x (kexec zero-fills p_memsz; amd64 locore does not clear .bss)", dirty - md_offset);
	else if (stack_dirty != 0)
		e.fail = "the stack in .bss is not zero (kexec zero-fills p_memsz; amd64 locore does not clear .bss)";
	else
		e.fail = check_entry(rflags, modulep, kernend);
	probe_main(&e);
}
