/*
 * qemu-shim: recreates, on a QEMU PC, the CPU state FreeBSD 16's amd64 kexec_do_reboot leaves at a kexec image's
 * entry (sys/amd64/amd64/kexec_support.c, kexec_tramp.S; see shared/reference/freebsd-kexec.md section 3.1),
 * so the kexec-ts QEMU backend can boot a plan's amd64 trampoline as a real FreeBSD 16 kernel would enter it.
 *
 * Booted by `qemu-system-x86_64 -kernel shim.elf -append entry=0xADDR` as a Multiboot (v1) kernel: QEMU's
 * multiboot loader only takes 32-bit ELF files, so this is an ELF32 image linked at 1 MiB whose 64-bit part is
 * assembled with .code64. It reads the entry (a physical address below 4 GiB, hex, optional 0x) from the last
 * `entry=` word of the multiboot command line, then:
 *   - builds 4-level PAE page tables identity-mapping 0-4 GiB with 2 MiB pages (PG_V|PG_RW|PG_PS), like the MD
 *     pages 0-5 of kexec_load_md; CR4.PGE stays clear as kexec_do_reboot_trampoline leaves it;
 *   - enables long mode (EFER.LME, CR4.PAE, CR0.PG), SSE as the old kernel had it (CR4.OSFXSR|OSXMMEXCPT, CR0.MP,
 *     EM and TS clear), loads a flat 64-bit GDT (null, 0x08 code, 0x10 data);
 *   - interrupts off (cli, RFLAGS = 2), general registers zero, no arguments, and jumps to the entry.
 * Its code, page tables and stack all lie in [1 MiB, 2 MiB), below every plan segment (kexec-ts places FreeBSD
 * kernels 2 MiB-aligned at 2 MiB or higher). Differences from a real kexec: the GDT is valid and mapped (the
 * old kernel's is not), and RSP points at this shim's stack rather than the end of the kexec control page.
 * Errors print one `qemu-shim: ...` line on COM1 and exit QEMU through isa-debug-exit (status 0x21).
 * Built by build.sh (as --32, ld -m elf_i386 with shim.ld); the committed shim.elf is checked against it.
 */
	.set	MB_MAGIC, 0x1badb002
	.set	MB_FLAGS, 0
	.set	MB_BOOTED, 0x2badb002
	.set	MBI_CMDLINE_FLAG, 0x4
	.set	COM1, 0x3f8
	.set	DEBUG_EXIT, 0xf4
	.set	PTE_PS_RW_P, 0x83
	.set	PTE_RW_P, 0x03
	.set	MSR_EFER, 0xc0000080
	.set	EFER_LME, 0x100
	.set	CR4_PAE_OSFXSR_OSXMMEXCPT, 0x620
	.set	CR0_SET, 0x80010023	/* PG | WP | NE | MP | PE */
	.set	CR0_CLEAR, 0x0c		/* TS | EM */

	.section .multiboot, "a"
	.p2align 2
	.long	MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.text
	.code32
	.globl	_start
_start:
	cli
	cld
	movl	$stack_top, %esp
	cmpl	$MB_BOOTED, %eax
	jne	err_magic
	testl	$MBI_CMDLINE_FLAG, (%ebx)
	jz	err_entry
	movl	16(%ebx), %esi		/* mbi->cmdline: "<kernel path> entry=0x..." */
	movl	%esi, %ebp		/* start of the command line */
	xorl	%edi, %edi		/* just past the last "entry=" that starts a word */
1:	cmpb	$0, (%esi)
	je	3f
	cmpl	$0x72746e65, (%esi)	/* "entr" */
	jne	2f
	cmpw	$0x3d79, 4(%esi)	/* "y=" */
	jne	2f
	cmpl	%ebp, %esi
	je	4f
	cmpb	$' ', -1(%esi)
	jne	2f
4:	leal	6(%esi), %edi
2:	incl	%esi
	jmp	1b
3:	testl	%edi, %edi
	jz	err_entry
	cmpw	$0x7830, (%edi)		/* optional "0x" */
	jne	5f
	addl	$2, %edi
5:	xorl	%edx, %edx		/* value */
	xorl	%ecx, %ecx		/* digits */
6:	movzbl	(%edi), %eax
	cmpb	$0, %al
	je	8f
	cmpb	$' ', %al
	je	8f
	orb	$0x20, %al		/* lower case */
	subb	$'0', %al
	cmpb	$9, %al
	jbe	7f
	subb	$('a' - '0' - 10), %al
	cmpb	$10, %al
	jb	err_entry
	cmpb	$15, %al
	ja	err_entry
7:	cmpl	$8, %ecx
	jae	err_entry		/* more than 32 bits */
	shll	$4, %edx
	orl	%eax, %edx
	incl	%ecx
	incl	%edi
	jmp	6b
8:	testl	%ecx, %ecx
	jz	err_entry
	movl	%edx, entry_addr

	movl	$msg_enter, %esi
	call	puts
	movl	entry_addr, %eax
	call	puthex
	movl	$msg_nl, %esi
	call	puts

	/* Page tables: PML4[0] -> PDPT, PDPT[0..3] -> PD0..PD3, 2048 PDEs of 2 MiB covering 0-4 GiB. */
	movl	$pml4, %edi
	movl	$(6 * 4096 / 4), %ecx
	xorl	%eax, %eax
	rep stosl
	movl	$(pdpt + PTE_RW_P), pml4
	movl	$pdpt, %edi
	movl	$(pd + PTE_RW_P), %eax
	movl	$4, %ecx
1:	movl	%eax, (%edi)
	addl	$4096, %eax
	addl	$8, %edi
	loop	1b
	movl	$pd, %edi
	movl	$PTE_PS_RW_P, %eax
	movl	$2048, %ecx
1:	movl	%eax, (%edi)
	addl	$0x200000, %eax
	addl	$8, %edi
	loop	1b

	movl	%cr4, %eax
	orl	$CR4_PAE_OSFXSR_OSXMMEXCPT, %eax
	movl	%eax, %cr4
	movl	$pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_LME, %eax
	wrmsr
	movl	%cr0, %eax
	andl	$~CR0_CLEAR, %eax
	orl	$CR0_SET, %eax
	movl	%eax, %cr0
	lgdt	gdtr
	movl	entry_addr, %ebx	/* carried into 64-bit mode (absolute loads need 64-bit relocations there) */
	ljmp	$0x08, $long_mode

/* puts: the NUL-terminated string at %esi to COM1 (clobbers %eax, %edx, %esi). */
puts:
	movb	(%esi), %al
	testb	%al, %al
	jz	2f
	call	putc
	incl	%esi
	jmp	puts
2:	ret

/* putc: %al to COM1 once the transmitter holding register is empty (LSR bit 5). */
putc:
	pushl	%eax
	movw	$(COM1 + 5), %dx
1:	inb	%dx, %al
	testb	$0x20, %al
	jz	1b
	popl	%eax
	movw	$COM1, %dx
	outb	%al, %dx
	ret

/* puthex: %eax as 8 lower-case hex digits (clobbers %eax, %ecx, %edx). */
puthex:
	pushl	%ebx
	movl	%eax, %ebx
	movl	$8, %ecx
1:	roll	$4, %ebx
	movl	%ebx, %eax
	andl	$0xf, %eax
	movb	hexdigits(%eax), %al
	call	putc
	loop	1b
	popl	%ebx
	ret

err_magic:
	movl	$msg_magic, %esi
	jmp	fail
err_entry:
	movl	$msg_entry, %esi
fail:
	call	puts
	movw	$DEBUG_EXIT, %dx
	movb	$0x10, %al		/* QEMU exit status (0x10 << 1) | 1 */
	outb	%al, %dx
1:	hlt
	jmp	1b

	.code64
long_mode:
	movl	$0x10, %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	%eax, %ss
	xorl	%eax, %eax
	movl	%eax, %fs
	movl	%eax, %gs
	movl	$stack_top, %esp	/* zero-extends into %rsp */
	pushq	$2
	popfq				/* IF, DF and the rest clear */
	movl	%ebx, %eax		/* zero-extends: the entry is below 4 GiB */
	xorl	%ebx, %ebx
	xorl	%ecx, %ecx
	xorl	%edx, %edx
	xorl	%esi, %esi
	xorl	%edi, %edi
	xorl	%ebp, %ebp
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	xorl	%r12d, %r12d
	xorl	%r13d, %r13d
	xorl	%r14d, %r14d
	xorl	%r15d, %r15d
	jmp	*%rax

	.section .rodata
	.p2align 3
gdt:
	.quad	0x0000000000000000	/* null */
	.quad	0x00209a0000000000	/* 0x08: 64-bit code, present, DPL 0 */
	.quad	0x0000920000000000	/* 0x10: data, read/write, present */
gdt_end:
	.p2align 2
	.word	0
gdtr:
	.word	gdt_end - gdt - 1
	.long	gdt
hexdigits:
	.ascii	"0123456789abcdef"
msg_enter:
	.asciz	"\r\nqemu-shim: long mode, identity map 0-4 GiB, interrupts off; entering 0x"
msg_nl:
	.asciz	"\r\n"
msg_magic:
	.asciz	"\r\nqemu-shim: error: not started by a multiboot loader (eax is not 0x2badb002)\r\n"
msg_entry:
	.asciz	"\r\nqemu-shim: error: no entry=0xADDR (hex, below 4 GiB) on the multiboot command line\r\n"

	.data
	.p2align 2
entry_addr:
	.long	0

	.bss
	.p2align 12
pml4:	.skip	4096
pdpt:	.skip	4096
pd:	.skip	4 * 4096
stack:	.skip	16384
stack_top:

	.section .note.GNU-stack, "", @progbits
