/**
 * Firmware tables handed to the kernel are exactly what their header declares (issue 11, bug 9): an --efi-map file
 * with bytes after its declared end passes only struct efi_map_header (padded to 16) plus memory_size bytes, as
 * stand/efi/loader/bootinfo.c bi_load_efi_data does; a --dtb is cut to fdt_header.totalsize; the trampoline's
 * symbols must all exist (bug 8: a missing one is an error, never offset 0). The MODINFOMD_EFI_MAP record is
 * decoded from the exported bytes with the independent test decoder.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {KexecError} from '../../src/errors.js';
import {loadTrampoline, patchTrampoline, trampolineSymbol} from '../../src/image/freebsd/trampoline.js';
import {IN_PROCESS_SKIP, cli} from '../helpers/cli.js';
import {MODINFO, MODINFOMD_X86, walkPreload} from '../helpers/modinfo-decoder.js';
import {PhysicalMemory} from '../helpers/physical-memory.js';

const K = fileURLToPath(new URL('../../examples/probe-kernel/build/amd64/', import.meta.url));

test('--efi-map with trailing bytes: the kernel gets header + memory_size bytes, and a note says what was left out', {skip: IN_PROCESS_SKIP}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-efi-'));
  t.after(() => rmSync(dir, {recursive: true, force: true}));
  const map = new Uint8Array(32 + 2 * 48 + 64).fill(0xcc);
  const dv = new DataView(map.buffer);
  dv.setBigUint64(0, 96n, true);
  dv.setBigUint64(8, 48n, true);
  dv.setUint32(16, 1, true);
  const file = join(dir, 'efi.bin');
  writeFileSync(file, map);
  const out = join(dir, 'out');
  const r = await cli(['plan', '--profile', 'amd64-4g', '--module-path', K, '--efi-map', file, '--json', '--export', out, join(K, 'kernel')]);
  assert.equal(r.code, 0, r.stderr);
  const {plan, memory} = PhysicalMemory.fromExport(out);
  const md = walkPreload(memory, BigInt((plan.handoff as {metadata: string}).metadata));
  const rec = md.files[0]?.records.find((x) => x.type === (MODINFO.METADATA | MODINFOMD_X86.EFI_MAP));
  assert.equal(rec?.size, 32 + 96, 'MODINFOMD_EFI_MAP is exactly the declared size');
  assert.deepEqual(rec?.data, map.subarray(0, 128));
  assert.match((plan.notes as string[]).join('\n'), /--efi-map .*efi\.bin: 64 bytes past the size its header declares were left out/);
  const bad = join(dir, 'bad.bin');
  writeFileSync(bad, map.subarray(0, 100));
  const refused = await cli(['plan', '--profile', 'amd64-4g', '--efi-map', bad, join(K, 'kernel')]);
  assert.equal(refused.code, 3);
  assert.match(refused.stderr, /^kexec-ts: .*bad\.bin: efi_map_header\.memory_size 0x60 needs 0x80 bytes, the map has 0x64\n/);
});

test('a trampoline symbol that is missing is an error, not offset 0', () => {
  const t = loadTrampoline('amd64');
  assert.equal(typeof trampolineSymbol(t, 'tramp_gdt'), 'number');
  const broken = {...t, symbols: Object.fromEntries(Object.entries(t.symbols).filter(([k]) => k !== 'tramp_gdt' && k !== 'param_pt4'))};
  assert.throws(() => trampolineSymbol(broken, 'tramp_gdt'), (e: unknown) => e instanceof KexecError && e.code === 1 && /has no symbol tramp_gdt/.test(e.message));
  assert.throws(() => patchTrampoline(broken, {param_pt4: {value: 0n, width: 8}}), /has no symbol param_pt4/);
});
