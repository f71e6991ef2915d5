/**
 * The running system's memory description (sysctl machdep.efi_map / machdep.smap) is read, converted and handed
 * to the new kernel in place of a synthesized one; without either, kexec-ts synthesizes the map. Every check
 * decodes the MODINFOMD record from the plan's bytes with the independent test decoder (test/helpers), so what
 * is asserted is what the kernel would find, not what kexec-ts says it did.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import type {TargetFacts} from '../../src/backend/types.js';
import {KexecError} from '../../src/errors.js';
import {runningFirmware} from '../../src/host/running-firmware.js';
import type {SysctlReader} from '../../src/host/sysctl.js';
import {parseEfiMap, smapFromXattr} from '../../src/image/freebsd/firmware-blobs.js';
import {getProfile} from '../../src/memory/profiles.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import type {Plan} from '../../src/plan/types.js';
import {buildFreeBsdKernel} from '../fixtures/freebsd-kernel.js';
import {MODINFO, MODINFOMD_X86, decodeMetadata, walkPreload} from '../helpers/modinfo-decoder.js';
import {PhysicalMemory} from '../helpers/physical-memory.js';
import {conventionalEfiMap} from '../helpers/efi-map.js';

const fake = (values: Record<string, Uint8Array | undefined>): SysctlReader => async (name) => values[name];

function xattr(entries: [bigint, bigint, number][]): Uint8Array {
  const out = new Uint8Array(24 * entries.length);
  const dv = new DataView(out.buffer);
  entries.forEach(([base, len, type], i) => {
    dv.setBigUint64(24 * i, base, true);
    dv.setBigUint64(24 * i + 8, len, true);
    dv.setUint32(24 * i + 16, type, true);
    dv.setUint32(24 * i + 20, 0xdeadbeef, true);
  });
  return out;
}

/** struct efi_map_header (padded to 32) + `n` 48-byte descriptors of conventional memory, then `junk` extra bytes. */
const efiMap = (n: number, junk = 0): Uint8Array => conventionalEfiMap(n, 1n << 32n, junk);

/** The kernel's metadata records, decoded from the plan's bytes at handoff.metadata. */
function kernelMetadata(plan: Plan): ReturnType<typeof decodeMetadata> {
  const h = plan.handoff;
  assert.equal(h.kind, 'freebsd');
  const md = walkPreload(PhysicalMemory.ofSegments(plan.segments), h.metadata);
  return decodeMetadata(md.files[0] as (typeof md.files)[number], 'amd64');
}

/** The raw bytes of the kernel's MODINFOMD_EFI_MAP record. */
function efiMapRecord(plan: Plan): Uint8Array | undefined {
  assert.equal(plan.handoff.kind, 'freebsd');
  const md = walkPreload(PhysicalMemory.ofSegments(plan.segments), plan.handoff.metadata);
  return md.files[0]?.records.find((r) => r.type === (MODINFO.METADATA | MODINFOMD_X86.EFI_MAP))?.data;
}

test('machdep.smap (bios_smap_xattr, 24 bytes) becomes packed bios_smap (20 bytes) entries', () => {
  const s = smapFromXattr(xattr([[0x1000n, 0x9e000n, 1], [0x100000n, 0x3ff00000n, 1], [0xfee00000n, 0x1000n, 2]]), 'machdep.smap').bytes;
  assert.equal(s.length, 60);
  const dv = new DataView(s.buffer);
  assert.deepEqual([dv.getBigUint64(20, true), dv.getBigUint64(28, true), dv.getUint32(36, true)], [0x100000n, 0x3ff00000n, 1]);
  assert.throws(() => smapFromXattr(new Uint8Array(25), 'machdep.smap'), (e: unknown) => e instanceof KexecError && e.code === 3 && /not a non-zero multiple of 24/.test(e.message));
});

test('the EFI map wins over the SMAP; neither gives undefined', async () => {
  const efi = efiMap(1);
  assert.equal((await runningFirmware(fake({'machdep.efi_map': efi, 'machdep.smap': xattr([[0n, 0x1000n, 1]])})))?.efiMap, efi);
  const smapOnly = await runningFirmware(fake({'machdep.smap': xattr([[0n, 0x1000n, 1]])}));
  assert.equal(smapOnly?.smapXattr?.length, 24);
  assert.equal(smapOnly?.source, 'sysctl machdep.smap');
  assert.equal(await runningFirmware(fake({})), undefined);
});

test('an EFI map is cut to the size its header declares (bi_load_efi_data: efisz + memory_size)', () => {
  const b = parseEfiMap(efiMap(2, 100), 'efi.bin');
  assert.equal(b.bytes.length, 32 + 96);
  assert.equal(b.trailing, 100);
  const bad = efiMap(2);
  new DataView(bad.buffer).setBigUint64(0, 48n * 3n, true);
  assert.throws(() => parseEfiMap(bad, 'efi.bin'), /efi\.bin: efi_map_header\.memory_size 0x90 needs 0xb0 bytes, the map has 0x80/);
});

test('the running system\'s EFI map becomes MODINFOMD_EFI_MAP, exactly its declared bytes; --efi-map wins; else an SMAP is synthesized', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-fw-'));
  t.after(() => rmSync(dir, {recursive: true, force: true}));
  const kernel = join(dir, 'kernel');
  writeFileSync(kernel, buildFreeBsdKernel({arch: 'amd64', version: 1500000}));
  const profile = getProfile('amd64-4g');
  const target = (efi: Uint8Array): TargetFacts => ({arch: 'amd64', pageSize: 0x1000n, memoryMap: profile.memoryMap, source: 'test host', firmware: {efiMap: efi, source: 'sysctl machdep.efi_map'}});

  const running = efiMap(3, 16);
  const {plan} = await planFiles({image: kernel, modules: [], loaderConf: [], target: target(running)});
  const md = kernelMetadata(plan);
  assert.equal(md.smap, undefined);
  assert.equal(md.efiMap?.descriptors.length, 3);
  assert.equal(md.efiMap?.descriptors[2]?.physStart, 2n << 32n);
  assert.deepEqual(efiMapRecord(plan), running.subarray(0, 32 + 3 * 48), 'the record holds the declared bytes, the 16 after them left out');
  assert.match(plan.notes.join('\n'), /sysctl machdep\.efi_map: 16 bytes past the size its header declares were left out/);

  const given = join(dir, 'efi.bin');
  writeFileSync(given, efiMap(1));
  const {plan: p2} = await planFiles({image: kernel, modules: [], loaderConf: [], target: target(running), efiMap: given});
  assert.equal(kernelMetadata(p2).efiMap?.descriptors.length, 1);
  assert.deepEqual(efiMapRecord(p2), efiMap(1), '--efi-map wins over the running system\'s map');

  const {plan: p3} = await planFiles({image: kernel, modules: [], loaderConf: [], profile: 'amd64-4g'});
  const m3 = kernelMetadata(p3);
  assert.equal(m3.efiMap, undefined);
  const ram = profile.memoryMap.ranges.filter((r) => r.type === 'ram').map((r) => ({base: r.range.start, length: r.range.size, type: 1}));
  assert.deepEqual(m3.smap, ram, 'synthesized SMAP: one SMAP_TYPE_MEMORY entry per RAM range');
});
