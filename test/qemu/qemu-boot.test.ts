/**
 * The QEMU backend on real emulated CPUs, without the probe kernel: a few hand-assembled instructions, planned
 * as a generic image and staged with load, are booted by exec. On each architecture:
 *  - code that writes HELLO to the serial port and powers off: exec sees no verdict (probe-fail), and the
 *    console in the error's details holds HELLO (and, on amd64, qemu-shim's banner naming the entry);
 *  - code that checks the CPU state FreeBSD 16's kexec leaves (amd64: long mode, paging with CR3 in the shim,
 *    CR4.PAE on and PGE off, interrupts off, the top of 4 GiB identity-mapped; arm64: EL1, MMU off, DAIF masked)
 *    and prints a two-line probe transcript: exec returns a boot report;
 *  - code that spins forever: exec times out, and QEMU is gone afterwards.
 * Skipped cleanly when QEMU or the assemblers (binutils, binutils-aarch64-linux-gnu) are not installed.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {createQemuBackend, type QemuArch} from '../../src/backend/qemu/index.js';
import {KexecError} from '../../src/errors.js';
import {assemble, toolsFor} from '../../scripts/trampoline-assembler.js';
import {READELF_PRESENT} from '../helpers/corpus.js';
import {qemuSkip, rawCodePlan, tempDir} from './qemu-fixtures.js';

const AMD64_PRINT_EXIT = `
print_exit:
1:	lodsb
	testb	%al, %al
	jz	2f
	movw	$0x3f8, %dx
	outb	%al, %dx
	jmp	1b
2:	movw	$0xf4, %dx
	xorl	%eax, %eax
	outb	%al, %dx
3:	hlt
	jmp	3b
`;

const ARM64_PRINT_OFF = `
print_off:
	ldr	x2, =0x09000000
1:	ldrb	w3, [x1], #1
	cbz	w3, 2f
	strb	w3, [x2]
	b	1b
2:	ldr	x0, =0x84000008		/* PSCI SYSTEM_OFF */
	hvc	#0
3:	wfi
	b	3b
`;

const SOURCES: {readonly [A in QemuArch]: {hello: string; state: string; spin: string}} = {
  amd64: {
    hello: `.text\n.code64\n\tleaq msg(%rip), %rsi\n\tjmp print_exit\n${AMD64_PRINT_EXIT}\nmsg: .asciz "HELLO\\n"\n`,
    spin: '.text\n.code64\n1:\tjmp 1b\n',
    state: `.text
	.code64
	pushfq
	popq	%rax
	leaq	m_if(%rip), %rsi
	testl	$0x200, %eax
	jnz	print_exit
	movq	%cr0, %rax
	leaq	m_pg(%rip), %rsi
	btl	$31, %eax
	jnc	print_exit
	movq	%cr4, %rax
	leaq	m_pae(%rip), %rsi
	btl	$5, %eax
	jnc	print_exit
	leaq	m_pge(%rip), %rsi
	btl	$7, %eax
	jc	print_exit
	movl	$0xc0000080, %ecx
	rdmsr
	leaq	m_lma(%rip), %rsi
	btl	$10, %eax
	jnc	print_exit
	movq	%cr3, %rax
	leaq	m_cr3(%rip), %rsi
	cmpq	$0x200000, %rax
	jae	print_exit
	movl	$0xfffffff0, %eax
	movl	(%rax), %eax		/* the reset vector at the top of 4 GiB, through the identity map */
	leaq	m_ok(%rip), %rsi
	jmp	print_exit
${AMD64_PRINT_EXIT}
m_ok:	.asciz "PROBE BEGIN arch=amd64 modulep=0x0 kernend=0x0\\nPROBE OK\\n"
m_if:	.asciz "PROBE FAIL interrupts are enabled\\n"
m_pg:	.asciz "PROBE FAIL CR0.PG is clear\\n"
m_pae:	.asciz "PROBE FAIL CR4.PAE is clear\\n"
m_pge:	.asciz "PROBE FAIL CR4.PGE is set\\n"
m_lma:	.asciz "PROBE FAIL EFER.LMA is clear\\n"
m_cr3:	.asciz "PROBE FAIL CR3 is not the shim's page table\\n"
`,
  },
  arm64: {
    hello: `.text\n\tadr x1, msg\n\tb print_off\n${ARM64_PRINT_OFF}\nmsg: .asciz "HELLO\\n"\n\t.balign 8\n\t.ltorg\n`,
    spin: '.text\n1:\tb 1b\n',
    state: `.text
	mrs	x0, CurrentEL
	adr	x1, m_el
	cmp	x0, #0x4
	b.ne	print_off
	mrs	x0, sctlr_el1
	adr	x1, m_mmu
	tbnz	x0, #0, print_off
	mrs	x0, daif
	adr	x1, m_daif
	cmp	x0, #0x3c0
	b.ne	print_off
	adr	x1, m_ok
	b	print_off
${ARM64_PRINT_OFF}
m_ok:	.asciz "PROBE BEGIN arch=arm64 modulep=0x0 kernend=0x0\\nPROBE OK\\n"
m_el:	.asciz "PROBE FAIL not at EL1\\n"
m_mmu:	.asciz "PROBE FAIL the MMU is on\\n"
m_daif:	.asciz "PROBE FAIL interrupts are not masked\\n"
	.balign 8
	.ltorg
`,
  },
};

const ENTRY: {readonly [A in QemuArch]: bigint} = {amd64: 0x400000n, arm64: 0x42000000n};

function skipFor(arch: QemuArch): string | false {
  const q = qemuSkip(arch);
  if (q !== false) return q;
  if (toolsFor(arch) === undefined) return `binutils for ${arch} are not installed (Debian package ${arch === 'amd64' ? 'binutils' : 'binutils-aarch64-linux-gnu'})`;
  return READELF_PRESENT ? false : 'readelf is not on PATH (Debian package binutils)';
}

function code(arch: QemuArch, source: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-qemu-asm-'));
  try {
    // A global symbol keeps nm quiet about an object without any.
    writeFileSync(join(dir, 'code.S'), source.replace('.text', '.text\n\t.globl code_start\ncode_start:'));
    return assemble(arch, join(dir, 'code.S')).bytes;
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

/** Processes whose command line mentions `text` (Linux /proc; empty elsewhere). */
function processesMentioning(text: string): number[] {
  if (!existsSync('/proc/self/cmdline')) return [];
  return readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p)).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(text);
    } catch {
      return false;
    }
  }).map(Number);
}

for (const arch of ['amd64', 'arm64'] as const) {
  describe(`qemu ${arch}: hand-assembled code`, {skip: skipFor(arch)}, () => {
    const boot = async (t: {after: (fn: () => void) => void}, source: string, timeoutMs = 30000) => {
      const stateDir = join(tempDir(t), 'state');
      const backend = createQemuBackend({stateDir, arch, timeoutMs});
      await backend.load(rawCodePlan(arch, code(arch, source), ENTRY[arch]));
      const started = Date.now();
      const result = await backend.exec({}).then((r) => ({report: r, error: undefined}), (e: unknown) => ({report: undefined, error: e}));
      return {...result, stateDir, ms: Date.now() - started};
    };

    test('HELLO on the serial console, then power-off: no verdict, so probe-fail with the console in the details', async (t) => {
      const {error, ms} = await boot(t, SOURCES[arch].hello);
      assert.ok(error instanceof KexecError, String(error));
      assert.equal(error.code, 5);
      assert.equal(error.reason, 'probe-fail');
      assert.match(error.message, /^qemu: exited \(status [0-9]+\) without PROBE OK or PROBE FAIL; console: .*HELLO$/);
      const console = error.details?.console as string[];
      assert.ok(console.includes('HELLO'), console.join('\n'));
      if (arch === 'amd64') {
        assert.ok(console.some((l) => l.endsWith('qemu-shim: long mode, identity map 0-4 GiB, interrupts off; entering 0x00400000')), console.join('\n'));
      }
      t.diagnostic(`${arch} HELLO boot: ${ms} ms; console: ${JSON.stringify(console)}`);
    });

    test('the CPU is in the state FreeBSD 16 kexec leaves; a two-line transcript gives a boot report', async (t) => {
      const {report, error, ms} = await boot(t, SOURCES[arch].state);
      assert.equal(error, undefined, error instanceof Error ? error.message : String(error));
      assert.ok(report !== undefined);
      assert.equal(report.backend, 'qemu');
      assert.deepEqual(report.lines.filter((l) => l.startsWith('PROBE')), [`PROBE BEGIN arch=${arch} modulep=0x0 kernend=0x0`, 'PROBE OK']);
      assert.match(report.lines.at(-1) ?? '', /^qemu: PROBE OK; 1 segments match plan\.json \(a generic ELF plan: no hand-off to compare\); QEMU ran/);
      t.diagnostic(`${arch} state boot: ${ms} ms; lines: ${JSON.stringify(report.lines)}`);
    });

    test('a guest that spins forever is killed at the timeout (qemu-timeout), and no QEMU is left running', async (t) => {
      const {error, stateDir, ms} = await boot(t, SOURCES[arch].spin, 1500);
      assert.ok(error instanceof KexecError, String(error));
      assert.equal(error.reason, 'qemu-timeout');
      assert.match(error.message, /^qemu: timed out after 1\.5 s; console: /);
      t.diagnostic(`${arch} spin: exec returned after ${ms} ms (how soon it must: npm run bench:limits)`);
      assert.deepEqual(processesMentioning(stateDir), [], 'QEMU was killed');
    });
  });
}
