/*
 * kexec-ts amd64 trampoline.
 *
 * Entered by FreeBSD's kexec_do_reboot (sys/amd64/amd64/kexec_tramp.S) with `pushq entry; ret`: long mode,
 * CPL 0, interrupts off, the kexec page tables (identity 0-4 GiB) in CR3, the old kernel's GDT/IDT no longer
 * mapped, no arguments. It builds what btext (sys/amd64/amd64/locore.S) expects: a GDT of its own, page tables
 * mapping the low 4 GiB 1:1 and KERNBASE+2M.. to the load base (prepared by kexec-ts next to this code), and
 * the stack frame 0(%rsp)=0, 4(%rsp)=modulep, 8(%rsp)=kernend (32-bit loader addresses), then returns to btext.
 * Position independent: every address it needs is in the parameter block, patched by kexec-ts at plan time.
 */
	.text
	.code64
	.globl	tramp_start
tramp_start:
	cli
	cld
	lgdt	.Lgdtr(%rip)
	leaq	1f(%rip), %rax
	pushq	$0x08
	pushq	%rax
	lretq
1:	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	/* Our page tables: PML4[0] identity 0-4 GiB, PML4[511] KERNBASE -> load base (2 MiB pages). */
	movq	.Lpt4(%rip), %rax
	movq	%rax, %cr3
	/* Drop CR4 features the new kernel enables itself: PCIDE, SMEP, SMAP, PKE, CET, PKS. */
	movq	%cr4, %rax
	andq	$~0x1f20000, %rax
	movq	%rax, %cr4
	/* ret pops param_entry (btext's KERNBASE VA) and leaves %rsp at btext's frame. */
	leaq	.Lentry(%rip), %rsp
	ret

	.p2align 3
	.globl	tramp_gdt
tramp_gdt:
.Lgdt:
	.quad	0x0000000000000000	/* null */
	.quad	0x00209a0000000000	/* 0x08: 64-bit code, present, DPL 0 */
	.quad	0x0000920000000000	/* 0x10: data, read/write, present */
.Lgdt_end:
	.p2align 3
	.word	0, 0, 0			/* align gdtr's base to 8 */
.Lgdtr:
	.word	.Lgdt_end - .Lgdt - 1
	.globl	param_gdt_base
param_gdt_base:
	.quad	0			/* physical address of gdt */
	.globl	param_pt4
param_pt4:
.Lpt4:
	.quad	0			/* physical address of the PML4 page */
	.globl	param_entry
param_entry:
.Lentry:
	.quad	0			/* kernel entry (btext), a KERNBASE virtual address */
	.globl	param_frame
param_frame:
	.long	0			/* 0(%rsp) at btext: unused return address */
	.globl	param_modulep
param_modulep:
.Lmodulep:
	.long	0			/* 4(%rsp): modulep, loader address (KERNBASE-relative) */
	.globl	param_kernend
param_kernend:
	.long	0			/* 8(%rsp): kernend, loader address */
	.long	0
	.globl	tramp_end
tramp_end:
