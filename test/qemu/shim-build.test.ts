/**
 * The committed amd64 shim (examples/qemu-shim/shim.elf): rebuilt with build.sh when GNU as and ld are installed
 * and compared byte for byte (the build is deterministic: no build-id, symbols, notes or timestamps), and, always,
 * read as QEMU's multiboot loader reads it: a 32-bit x86 ELF (QEMU refuses ELF64 multiboot images), a Multiboot
 * v1 header with a valid checksum in the first 8 KiB, and everything it loads, plus its .bss page tables and
 * stack, inside [1 MiB, 2 MiB) where the QEMU backend keeps plan segments out.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {findExecutable} from '../../src/backend/qemu/find-executable.js';
import {QEMU_SHIM_RANGE, defaultShimPath} from '../../src/backend/qemu/qemu-machines.js';
import {tempDir} from './qemu-fixtures.js';

const SHIM_DIR = fileURLToPath(new URL('../../examples/qemu-shim/', import.meta.url));
const SHIM = readFileSync(join(SHIM_DIR, 'shim.elf'));
const TOOLS_SKIP = findExecutable('as') === undefined || findExecutable('ld') === undefined ? 'GNU as/ld are not installed (Debian package binutils)' : false;
const MB_MAGIC = 0x1badb002;

test('the backend finds the committed shim', () => {
  assert.equal(defaultShimPath(), join(SHIM_DIR, 'shim.elf'));
});

test('build.sh rebuilds shim.elf byte for byte', {skip: TOOLS_SKIP}, (t) => {
  const out = join(tempDir(t), 'shim.elf');
  execFileSync('sh', [join(SHIM_DIR, 'build.sh'), out], {stdio: 'pipe'});
  const rebuilt = readFileSync(out);
  assert.equal(rebuilt.length, SHIM.length, 'same size');
  assert.ok(rebuilt.equals(SHIM), 'same bytes: run examples/qemu-shim/build.sh after changing shim.S or shim.ld');
});

test('shim.elf is an ELF32 i386 executable, as QEMU\'s multiboot loader requires', () => {
  assert.deepEqual([...SHIM.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
  assert.equal(SHIM[4], 1, 'ELFCLASS32');
  assert.equal(SHIM[5], 1, 'little-endian');
  assert.equal(SHIM.readUInt16LE(16), 2, 'ET_EXEC');
  assert.equal(SHIM.readUInt16LE(18), 3, 'EM_386');
});

test('a Multiboot v1 header in the first 8 KiB, 4-byte aligned, checksum zero-sum, no a.out kludge', () => {
  let at = -1;
  for (let i = 0; i + 12 <= Math.min(SHIM.length, 8192); i += 4) {
    if (SHIM.readUInt32LE(i) === MB_MAGIC) {
      at = i;
      break;
    }
  }
  assert.ok(at >= 0, 'magic 0x1badb002 found');
  const flags = SHIM.readUInt32LE(at + 4);
  assert.equal((MB_MAGIC + flags + SHIM.readUInt32LE(at + 8)) % 2 ** 32, 0, 'magic + flags + checksum = 0 mod 2^32');
  assert.equal(flags & 0x10000, 0, 'the ELF headers, not the a.out fields, say where it loads');
});

test('the entry and every PT_LOAD (with .bss: page tables and stack) lie in [1 MiB, 2 MiB)', () => {
  const entry = SHIM.readUInt32LE(24);
  const phoff = SHIM.readUInt32LE(28);
  const phentsize = SHIM.readUInt16LE(42);
  const phnum = SHIM.readUInt16LE(44);
  const loads: {paddr: number; memsz: number}[] = [];
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (SHIM.readUInt32LE(ph) === 1) loads.push({paddr: SHIM.readUInt32LE(ph + 12), memsz: SHIM.readUInt32LE(ph + 20)});
  }
  assert.ok(loads.length > 0);
  for (const l of loads) {
    assert.ok(BigInt(l.paddr) >= QEMU_SHIM_RANGE.start && BigInt(l.paddr + l.memsz) <= QEMU_SHIM_RANGE.end, `PT_LOAD [0x${l.paddr.toString(16)}, +0x${l.memsz.toString(16)})`);
  }
  assert.ok(loads.some((l) => entry >= l.paddr && entry < l.paddr + l.memsz), `entry 0x${entry.toString(16)} is loaded`);
  const end = Math.max(...loads.map((l) => l.paddr + l.memsz));
  assert.ok(end <= 0x180000, `the image ends at 0x${end.toString(16)}, leaving room below 2 MiB for QEMU's multiboot info`);
});
