/*
 * amd64 entry, shaped like sys/amd64/amd64/locore.S btext: entered in 64-bit long mode at the KERNBASE virtual
 * address, with 0(%rsp) = 0 (a 32-bit "return address"), 4(%rsp) = modulep, 8(%rsp) = kernend (32-bit loader
 * addresses). Like btext it resets RFLAGS, keeps the loader's %rsp in %rbp and switches to its own stack in the
 * BSS; unlike btext it first records RFLAGS (the probe checks IF=0) and checks that its stack is still zero.
 */
	.text
	.globl	btext
	.type	btext, @function
btext:
	pushfq				/* one 8-byte push below the frame, as btext's pushq $PSL_KERNEL */
	popq	%rdx			/* 3rd argument: RFLAGS at entry */
	pushq	$0x2			/* PSL_KERNEL: IF=0, DF=0 */
	popfq
	movq	%rsp, %rbp

	/* 4th argument: nonzero if the stack in .probe_stack is not zero (kexec zero-fills p_memsz). */
	movq	$probe_stack, %rdi
	xorl	%ecx, %ecx
1:	orq	(%rdi), %rcx
	addq	$8, %rdi
	cmpq	$probe_stack_top, %rdi
	jb	1b

	movq	$probe_stack_top, %rsp
	movl	4(%rbp), %edi		/* modulep, zero-extended as btext does */
	movl	8(%rbp), %esi		/* kernend */
	call	md_entry
2:	cli
	hlt
	jmp	2b
	.size	btext, . - btext

/*
 * Exception stubs for the probe's IDT, 16 bytes apart: push a zero error code where the CPU pushes none, push the
 * vector, and report. Without an IDT a fault would triple-fault and reset the machine with no word on the console.
 */
	.macro	VEC n, err
	.p2align 4
	.if	\err == 0
	pushq	$0
	.endif
	pushq	$\n
	jmp	vec_common
	.endm

	.p2align 4
	.globl	md_vectors
md_vectors:
	VEC 0,0; VEC 1,0; VEC 2,0; VEC 3,0; VEC 4,0; VEC 5,0; VEC 6,0; VEC 7,0
	VEC 8,1; VEC 9,0; VEC 10,1; VEC 11,1; VEC 12,1; VEC 13,1; VEC 14,1; VEC 15,0
	VEC 16,0; VEC 17,1; VEC 18,0; VEC 19,0; VEC 20,0; VEC 21,1; VEC 22,0; VEC 23,0
	VEC 24,0; VEC 25,0; VEC 26,0; VEC 27,0; VEC 28,0; VEC 29,1; VEC 30,1; VEC 31,0

vec_common:
	movq	(%rsp), %rdi		/* vector */
	movq	8(%rsp), %rsi		/* error code */
	movq	16(%rsp), %rdx		/* %rip */
	movq	%cr2, %rcx
	andq	$-16, %rsp
	call	md_exception
3:	cli
	hlt
	jmp	3b

/* The probe's stack: after .bss (kernel.ld), zero as delivered, checked above before its first use. */
	.section .probe_stack, "aw", @nobits
	.p2align 4
	.globl	probe_stack, probe_stack_top
probe_stack:
	.space	16384
probe_stack_top:

	.section .note.GNU-stack, "", @progbits
