/*
 * arm64 entry, shaped like sys/arm64/arm64/locore.S _start: entered at its PHYSICAL address with the MMU and
 * D-cache off, at EL1 or EL2, x0 = modulep (a kernel virtual address). Everything here is PC-relative: `adr`
 * gives the physical address of _start and the literal .Lstart_va its link-time virtual address, from which the
 * probe translates any kernel VA (the kernel's get_load_phys_addr does the same for KERNBASE).
 */
	.text
	.globl	_start
	.type	_start, %function
_start:
	mov	x19, x0				/* modulep */
	mrs	x20, CurrentEL
	ubfx	x20, x20, #2, #2		/* EL */
	cmp	x20, #2
	b.ne	1f
	mrs	x21, sctlr_el2
	b	2f
1:	mrs	x21, sctlr_el1

	/* x22 = nonzero if the stack in .probe_stack is not zero (kexec zero-fills p_memsz). 8-byte loads only. */
2:	adrp	x9, probe_stack
	add	x9, x9, :lo12:probe_stack
	adrp	x10, probe_stack_top
	add	x10, x10, :lo12:probe_stack_top
	mov	x22, xzr
3:	ldr	x11, [x9], #8
	orr	x22, x22, x11
	cmp	x9, x10
	b.lo	3b
	mov	sp, x10

	/* Exception vectors at their physical address, for the EL we run at. */
	adr	x9, md_vectors
	cmp	x20, #2
	b.ne	4f
	msr	vbar_el2, x9
	b	5f
4:	msr	vbar_el1, x9
5:	isb

	mov	x0, x19				/* modulep */
	mov	x1, x20				/* CurrentEL */
	mov	x2, x21				/* SCTLR_ELx */
	adr	x3, _start			/* physical address of _start */
	ldr	x4, .Lstart_va			/* virtual address of _start */
	mov	x5, x22				/* stack not zero */
	bl	md_entry
6:	wfi
	b	6b

	.p2align 3
.Lstart_va:
	.quad	_start
	.size	_start, . - _start

/*
 * VBAR table: 16 entries of 0x80 bytes, 2 KiB aligned. Each reports its index with ESR, ELR and FAR of the EL it
 * was taken to, so a fault (say an unaligned access to Device memory) ends with PROBE FAIL, not a silent hang.
 */
	.p2align 11
	.globl	md_vectors
md_vectors:
	.irp	n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	.p2align 7
	mov	x0, #\n
	b	vec_common
	.endr

vec_common:
	mrs	x9, CurrentEL
	ubfx	x9, x9, #2, #2
	cmp	x9, #2
	b.eq	1f
	mrs	x1, esr_el1
	mrs	x2, elr_el1
	mrs	x3, far_el1
	b	2f
1:	mrs	x1, esr_el2
	mrs	x2, elr_el2
	mrs	x3, far_el2
2:	mov	x9, sp
	and	x9, x9, #~15
	mov	sp, x9
	bl	md_exception
3:	wfi
	b	3b

/* The probe's stack: after .bss (kernel.ld), zero as delivered, checked above before its first use. */
	.section .probe_stack, "aw", %nobits
	.p2align 4
	.globl	probe_stack, probe_stack_top
probe_stack:
	.space	16384
probe_stack_top:

	.section .note.GNU-stack, "", %progbits
