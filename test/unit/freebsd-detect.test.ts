import {test} from 'node:test';
import assert from 'node:assert/strict';
import {ElfFile} from '../../src/elf/elf-file.js';
import {isFreeBsdKernel} from '../../src/image/freebsd/detect.js';
import {buildElf} from '../fixtures/elf-builder.js';
import {buildFreeBsdKernel} from '../fixtures/freebsd-kernel.js';
import {buildFreeBsdModule} from '../fixtures/freebsd-module.js';

const interp = (path: string): {type: number; vaddr: bigint; data: Uint8Array; flags: number; align: bigint} =>
  ({type: 3, vaddr: 0x400200n, data: new TextEncoder().encode(`${path}\0`), flags: 4, align: 1n});

test('FreeBSD kernel detection: kernels yes, FreeBSD programs and modules no', () => {
  const cases: [string, Uint8Array, boolean][] = [
    ['amd64 test kernel', buildFreeBsdKernel({arch: 'amd64', version: 1500000}), true],
    ['arm64 test kernel', buildFreeBsdKernel({arch: 'arm64', version: 1500000}), true],
    ['dynamic FreeBSD program (ld-elf.so.1)', buildElf({osabi: 9, entry: 0x4004e0n, segments: [interp('/libexec/ld-elf.so.1'), {vaddr: 0x400000n, data: new Uint8Array(0x600)}]}), false],
    ['static FreeBSD program entered low', buildElf({osabi: 9, entry: 0x401000n, segments: [{vaddr: 0x400000n, data: new Uint8Array(0x2000)}]}), false],
    ['kernel-shaped, no interpreter, entered high', buildElf({osabi: 9, entry: 0xffffffff80200100n, segments: [{vaddr: 0xffffffff80200000n, paddr: 0x200000n, data: new Uint8Array(0x200)}]}), true],
    ['SysV image with /red/herring', buildElf({osabi: 0, entry: 0x400210n, segments: [interp('/red/herring'), {vaddr: 0x400000n, data: new Uint8Array(0x400)}]}), true],
    ['Linux-style image entered high', buildElf({osabi: 0, entry: 0xffffffff81000000n, segments: [{vaddr: 0xffffffff81000000n, paddr: 0x1000000n, data: new Uint8Array(0x200)}]}), false],
    ['FreeBSD ET_REL module', buildFreeBsdModule({name: 'm', version: 1}), false],
  ];
  for (const [name, bytes, want] of cases) assert.equal(isFreeBsdKernel(ElfFile.parse(bytes, name)), want, name);
});
