/**
 * The running system's memory description (sysctl machdep.efi_map / machdep.smap) is read, converted and handed
 * to the new kernel in place of a synthesized one; without either, kexec-ts synthesizes the map.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {runningFirmware, smapFromXattr, type SysctlReader} from '../../src/image/freebsd/running-firmware.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import {buildFreeBsdKernel} from '../fixtures/freebsd-kernel.js';

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

test('machdep.smap (bios_smap_xattr, 24 bytes) becomes packed bios_smap (20 bytes) entries', () => {
  const s = smapFromXattr(xattr([[0x1000n, 0x9e000n, 1], [0x100000n, 0x3ff00000n, 1], [0xfee00000n, 0x1000n, 2]]));
  assert.ok(s);
  assert.equal(s.length, 60);
  const dv = new DataView(s.buffer);
  assert.deepEqual([dv.getBigUint64(20, true), dv.getBigUint64(28, true), dv.getUint32(36, true)], [0x100000n, 0x3ff00000n, 1]);
  assert.equal(smapFromXattr(new Uint8Array(25)), undefined);
});

test('the EFI map wins over the SMAP; neither gives undefined', async () => {
  const efi = new Uint8Array(32 + 48).fill(7);
  assert.equal((await runningFirmware(fake({'machdep.efi_map': efi, 'machdep.smap': xattr([[0n, 0x1000n, 1]])})))?.efiMap, efi);
  const smapOnly = await runningFirmware(fake({'machdep.smap': xattr([[0n, 0x1000n, 1]])}));
  assert.equal(smapOnly?.smap?.length, 20);
  assert.match(smapOnly?.source ?? '', /machdep\.smap, 1 entries/);
  assert.equal(await runningFirmware(fake({})), undefined);
});

test('a plan uses the running system\'s EFI map as the kernel\'s MODINFOMD_EFI_MAP, unless --efi-map is given', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-fw-'));
  const kernel = join(dir, 'kernel');
  writeFileSync(kernel, buildFreeBsdKernel({arch: 'amd64', version: 1500000}));
  const efi = new Uint8Array(32 + 48);
  new DataView(efi.buffer).setBigUint64(0, 48n, true);
  const running = {efiMap: efi, source: 'EFI memory map of the running system (sysctl machdep.efi_map)'};
  const {plan} = await planFiles({image: kernel, modules: [], profile: 'amd64-4g', runningFirmware: running});
  assert.match(plan.notes.join('\n'), /EFI memory map given \(0x50 bytes\): EFI memory map of the running system/);
  const given = join(dir, 'efi.bin');
  writeFileSync(given, new Uint8Array(32 + 96));
  const {plan: p2} = await planFiles({image: kernel, modules: [], profile: 'amd64-4g', runningFirmware: running, efiMap: given});
  assert.match(p2.notes.join('\n'), /EFI memory map given \(0x80 bytes\)$/m);
  const {plan: p3} = await planFiles({image: kernel, modules: [], profile: 'amd64-4g'});
  assert.match(p3.notes.join('\n'), /SMAP synthesized from the RAM ranges of profile amd64-4g/);
});
