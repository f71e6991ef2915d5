/**
 * qemu-shim under a real qemu-system-x86_64, on its own: how it reads `entry=` from the multiboot command line.
 * QEMU hands the shim "<kernel path> <-append text>", so the shim takes the last word starting with "entry=" and
 * refuses (one `qemu-shim: error:` line, QEMU exit status 0x21) a missing, non-hex or wider-than-32-bit value.
 * The guest code is eight hand-written bytes (mov $0xf4,%dx; xor %eax,%eax; out %al,%dx; hlt; jmp .-1), so no
 * assembler is needed: reaching it ends QEMU with status 1. Skipped when qemu-system-x86_64 is not installed.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {QEMU_MACHINES, defaultShimPath} from '../../src/backend/qemu/qemu-machines.js';
import {qemuCommand} from '../../src/backend/qemu/qemu-command.js';
import {runQemu} from '../../src/backend/qemu/qemu-run.js';
import {qemuSkip, tempDir} from './qemu-fixtures.js';

const EXIT_CODE = Uint8Array.from([0x66, 0xba, 0xf4, 0x00, 0x31, 0xc0, 0xee, 0xf4, 0xeb, 0xfd]);
const AT = 0x400000n;
const ENTERED = 'qemu-shim: long mode, identity map 0-4 GiB, interrupts off; entering 0x00400000';
const REFUSED = 'qemu-shim: error: no entry=0xADDR (hex, below 4 GiB) on the multiboot command line';

const CASES: {name: string; append: string; line: string; exit: number; at?: bigint}[] = [
  {name: 'entry=0x400000', append: 'entry=0x400000', line: ENTERED, exit: 1},
  {name: 'hex without 0x', append: 'entry=400000', line: ENTERED, exit: 1},
  {name: 'upper-case hex digits', append: 'entry=0x4000AC', at: 0x4000acn, line: ENTERED.replace('00400000', '004000ac'), exit: 1},
  {name: 'the last entry= word wins', append: 'entry=0x5 other=1 entry=0x400000', line: ENTERED, exit: 1},
  {name: 'no command line', append: '', line: REFUSED, exit: 0x21},
  {name: 'not hex', append: 'entry=0x40000g', line: REFUSED, exit: 0x21},
  {name: 'nine hex digits', append: 'entry=0x100400000', line: REFUSED, exit: 0x21},
  {name: 'entry= inside another word', append: 'xentry=0x400000', line: REFUSED, exit: 0x21},
  {name: 'entry= with no digits', append: 'entry=0x', line: REFUSED, exit: 0x21},
];

for (const c of CASES) {
  test(`qemu-shim -append '${c.append}': ${c.name}`, {skip: qemuSkip('amd64')}, async (t) => {
    const blob = join(tempDir(t), 'exit.bin');
    writeFileSync(blob, EXIT_CODE);
    const at = c.at ?? AT;
    const inv = qemuCommand({machine: QEMU_MACHINES.amd64, blobs: [{file: blob, addr: at}], entry: at, shim: defaultShimPath()});
    const args = [...inv.args];
    args[args.indexOf('-append') + 1] = c.append;
    const run = await runQemu({...inv, args}, {timeoutMs: 20000});
    assert.equal(run.timedOut, false);
    assert.ok(run.lines.includes(c.line), run.lines.join('\n'));
    assert.equal(run.exitCode, c.exit, run.lines.join('\n'));
  });
}
