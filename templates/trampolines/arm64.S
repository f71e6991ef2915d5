/*
 * kexec-ts arm64 trampoline.
 *
 * Called by FreeBSD's kexec_reboot_bottom (sys/arm64/arm64/kexec_support.c) as a plain C function with the MMU
 * and caches off, at EL1 (EL2 under VHE), interrupts masked, and x0-x7 undefined. FreeBSD's arm64 _start
 * (sys/arm64/arm64/locore.S) needs x0 = modulep (a kernel virtual address) and is entered at its physical
 * address; the new kernel sets up its own page tables. Both values are in the parameter block, patched by
 * kexec-ts at plan time.
 */
	.text
	.globl	tramp_start
tramp_start:
	msr	daifset, #0xf
	ldr	x0, .Lmodulep
	ldr	x9, .Lentry
	mov	x1, xzr
	mov	x2, xzr
	mov	x3, xzr
	br	x9

	.p2align 3
	.globl	param_entry
param_entry:
.Lentry:
	.quad	0			/* physical address of the kernel entry (_start) */
	.globl	param_modulep
param_modulep:
.Lmodulep:
	.quad	0			/* modulep, kernel virtual address */
	.globl	tramp_end
tramp_end:
