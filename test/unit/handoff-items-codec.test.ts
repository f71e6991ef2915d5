/**
 * The hand-off's memory map record summary and FW_HANDLE through the plan codec (src/plan/codec.ts): a FreeBSD plan
 * with an EFI map of three 48-byte descriptors and a FW_HANDLE survives planToJSON → planFromJSON, its summary
 * being what the kernel will walk (memory_size / descriptor_size, sys/amd64/amd64/machdep.c add_efi_map_entries),
 * worked out here from the bytes given; an SMAP plan without FW_HANDLE has none; a malformed field is refused
 * naming it.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {planFromJSON, planToJSON} from '../../src/plan/codec.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import {KexecError} from '../../src/errors.js';
import {buildFreeBsdKernel} from '../fixtures/freebsd-kernel.js';
import {conventionalEfiMap} from '../helpers/efi-map.js';

async function withPlan(extra: {efiMap?: Uint8Array; smap?: Uint8Array; fwHandle?: bigint}, fn: (json: ReturnType<typeof planToJSON>) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'codec-items-'));
  try {
    const kernel = join(dir, 'kernel');
    writeFileSync(kernel, buildFreeBsdKernel({arch: 'amd64', version: 1500000, textSize: 0x3000}));
    const tables: {efiMap?: string; smap?: string} = {};
    if (extra.efiMap !== undefined) writeFileSync((tables.efiMap = join(dir, 'efi_map')), extra.efiMap);
    if (extra.smap !== undefined) writeFileSync((tables.smap = join(dir, 'smap')), extra.smap);
    const {plan} = await planFiles({
      image: kernel, modules: [], loaderConf: [], profile: 'amd64-4g', ...tables, ...(extra.fwHandle === undefined ? {} : {fwHandle: extra.fwHandle}),
    });
    fn(planToJSON(plan));
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}

const efiMap = (n: number): Uint8Array => conventionalEfiMap(n, 1n << 30n);

test('EFI map and FW_HANDLE: summary as the kernel reads it, kept through the codec', async () => {
  await withPlan({efiMap: efiMap(3), fwHandle: 0x7fe9f018n}, (json) => {
    assert.equal(json.handoff.kind, 'freebsd');
    if (json.handoff.kind !== 'freebsd') return;
    assert.deepEqual(json.handoff.memoryRecord, {name: 'EFI_MAP', type: '0x1004', size: `0x${(32 + 3 * 48).toString(16)}`, entries: 3});
    assert.equal(json.handoff.fwHandle, '0x7fe9f018');
    const back = planFromJSON(JSON.parse(JSON.stringify(json)), 'plan.json');
    assert.ok(back.handoff.kind === 'freebsd');
    assert.deepEqual(back.handoff.memoryRecord, {name: 'EFI_MAP', type: 0x1004, size: 32 + 3 * 48, entries: 3});
    assert.equal(back.handoff.fwHandle, 0x7fe9f018n);
  });
});

test('SMAP without FW_HANDLE: 20-byte entries, no fwHandle key', async () => {
  const smap = new Uint8Array(2 * 20);
  new DataView(smap.buffer).setBigUint64(8, 0x9fc00n, true);
  await withPlan({smap}, (json) => {
    if (json.handoff.kind !== 'freebsd') assert.fail('not FreeBSD');
    assert.deepEqual(json.handoff.memoryRecord, {name: 'SMAP', type: '0x1001', size: '0x28', entries: 2});
    assert.equal('fwHandle' in json.handoff, false);
    const back = planFromJSON(JSON.parse(JSON.stringify(json)), 'plan.json');
    assert.ok(back.handoff.kind === 'freebsd' && back.handoff.fwHandle === undefined);
  });
});

const MALFORMED: [string, (h: Record<string, unknown>) => void, RegExp][] = [
  ['a memory record of another kind', (h) => { (h.memoryRecord as Record<string, unknown>).name = 'DTB'; }, /handoff\.memoryRecord\.name: is "DTB", expected one of EFI_MAP, SMAP/],
  ['entries that are not a count', (h) => { (h.memoryRecord as Record<string, unknown>).entries = '3'; }, /handoff\.memoryRecord\.entries: .*non-negative integer/],
  ['no memory record', (h) => { delete h.memoryRecord; }, /handoff\.memoryRecord/],
  ['a FW_HANDLE that is not hex', (h) => { h.fwHandle = 12; }, /handoff\.fwHandle: .*hex number/],
];

for (const [name, edit, says] of MALFORMED) {
  test(`planFromJSON refuses ${name}, naming the field`, async () => {
    await withPlan({efiMap: efiMap(1), fwHandle: 0x1000n}, (json) => {
      const doc = JSON.parse(JSON.stringify(json)) as {handoff: Record<string, unknown>};
      edit(doc.handoff);
      assert.throws(() => planFromJSON(doc, 'plan.json'), (e: unknown) => e instanceof KexecError && says.test(e.message));
    });
  });
}
