/**
 * The plans `kexec-ts plan` must refuse (exit 4, `{"error": {"code": 4, "reason", "message"}}` under --json, one
 * line naming the rule and the addresses without --json), each built in code with exactly one thing wrong, and
 * --entry turning the entry-outside refusal into a plan.
 */
import {after, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {CLI_BUILT, runCli} from '../helpers/corpus.js';
import {assertLoaded, checkPlanOutput, checkRefusal} from '../helpers/plan-check.js';
import {fill, mustPlan, pattern, planJson, writeElf, writeJsonMap} from '../helpers/plan-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'kr-'));
after(() => rmSync(dir, {recursive: true, force: true}));
const skip = CLI_BUILT ? false : 'dist/ is not built (npm run build)';

/** Runs the refused plan with --json and without; checks both forms and that nothing was exported. */
async function refuse(args: string[]): Promise<{reason: string; message: string}> {
  const out = join(dir, `export-${Math.random().toString(36).slice(2)}`);
  const {r, error} = await planJson(['--export', out, ...args]);
  const e = checkRefusal(r.code, r.stdout, r.stderr);
  assert.deepEqual(error, e);
  assert.ok(!existsSync(join(out, 'plan.json')), 'a refused plan exports nothing');
  const text = await runCli(['plan', ...args]);
  assert.equal(text.code, 4);
  assert.equal(text.stdout, '', 'nothing on stdout without --json');
  assert.ok(text.stderr.startsWith(`kexec-ts: ${e.message}\n`), `stderr is the same one-line message: ${text.stderr}`);
  assert.doesNotMatch(text.stderr, /^\s+at /m, 'no stack trace');
  return e;
}

const reasons = new Map<string, string>();

/** Overlapping PT_LOADs: A = 0x100 bytes of 0xaa at 0x200000; B at 0x200080 agrees except over [0x200090, 0x2000e0). */
function overlapImage(): string {
  const b = fill(0x100, 0xaa);
  b.fill(0xbb, 0x10, 0x60);
  b.fill(0xcc, 0x80); // past A's end: no conflict there
  return writeElf(dir, 'overlap.elf', {entry: 0x200000n, segments: [{vaddr: 0x200000n, data: fill(0x100, 0xaa)}, {vaddr: 0x200080n, data: b}]});
}

describe('plan: the five refusals, exit 4 with distinct reasons', {skip, concurrency: 5}, () => {
  test('more than 16 segments that cannot be merged: 17 PT_LOADs, each in its own RAM range', async () => {
    const at = (i: number): bigint => BigInt(i + 1) * 0x100000n;
    const map = writeJsonMap(dir, 'seventeen-ranges.json', Array.from({length: 17}, (_, i) => ({start: at(i), end: at(i) + 0x10000n})));
    const image = writeElf(dir, 'seventeen.elf', {entry: at(0), segments: Array.from({length: 17}, (_, i) => ({vaddr: at(i), data: pattern(0x80, i)}))});
    const e = await refuse(['--memmap', map, image]);
    assert.equal(e.reason, 'too-many-segments');
    assert.match(e.message, /17 segments/);
    reasons.set('too-many', e.reason);
  });

  test('two PT_LOADs overlapping with different bytes: the message gives the exact differing range', async () => {
    const e = await refuse([overlapImage()]);
    assert.equal(e.reason, 'overlap-conflict');
    assert.ok(e.message.includes('[0x200090, 0x2000e0)'), `differing bytes are [0x200090, 0x2000e0): ${e.message}`);
    reasons.set('overlap', e.reason);
  });

  test('an image outside every RAM range (on the running kernel\'s reserved range)', async () => {
    const image = writeElf(dir, 'outside.elf', {entry: 0xb0000000n, segments: [{vaddr: 0xb0000000n, data: pattern(0x200, 3)}]});
    const e = await refuse([image]);
    assert.equal(e.reason, 'outside-memory');
    assert.ok(e.message.includes('[0xb0000000, 0xb0001000)'), e.message);
    assert.match(e.message, /running kernel/);
    reasons.set('outside', e.reason);
  });

  test('a PT_LOAD spanning two adjacent RAM ranges', async () => {
    const map = writeJsonMap(dir, 'adjacent.json', [{start: 0x100000n, end: 0x200000n}, {start: 0x200000n, end: 0x300000n}]);
    const image = writeElf(dir, 'spans.elf', {entry: 0x1ff000n, segments: [{vaddr: 0x1ff000n, data: pattern(0x2000, 4)}]});
    const e = await refuse(['--memmap', map, image]);
    assert.equal(e.reason, 'spans-ranges');
    assert.ok(e.message.includes('[0x1ff000, 0x201000)'), e.message);
    assert.ok(e.message.includes('[0x100000, 0x200000)') && e.message.includes('[0x200000, 0x300000)'), e.message);
    reasons.set('spans', e.reason);
  });

  test('e_entry in no PT_LOAD, virtual or physical; --entry makes it plan', async () => {
    const data = pattern(0x800, 5);
    // vaddr 0xffffffff80200000, paddr 0x200000: e_entry 0x500000 is in neither range.
    const image = writeElf(dir, 'entry.elf', {entry: 0x500000n, segments: [{vaddr: 0xffffffff80200000n, paddr: 0x200000n, data, memsz: 0x1000n}]});
    const e = await refuse([image]);
    assert.equal(e.reason, 'entry-outside');
    assert.ok(e.message.includes('0x500000'), e.message);
    reasons.set('entry', e.reason);

    const out = join(dir, 'export-entry');
    const plan = await mustPlan(['--entry', '0x200010', '--export', out, image]);
    assert.equal(plan.entry, '0x200010');
    assertLoaded(checkPlanOutput(plan, out), 0x200000n, data, 0x1000n, 'PT_LOAD 0');
  });

  test('--entry outside every segment is refused too', async () => {
    const image = writeElf(dir, 'entry2.elf', {entry: 0x200000n, segments: [{vaddr: 0x200000n, data: pattern(0x100, 6)}]});
    const e = await refuse(['--entry', '0x900000', image]);
    assert.equal(e.reason, 'entry-outside');
    assert.ok(e.message.includes('0x900000'), e.message);
  });
});

describe('plan: refusal reasons', {skip}, () => {
  test('the five refusals have five distinct reasons', () => {
    assert.deepEqual([...reasons.keys()].sort(), ['entry', 'outside', 'overlap', 'spans', 'too-many']);
    assert.equal(new Set(reasons.values()).size, 5, `reasons: ${[...reasons.values()].join(', ')}`);
  });
});
