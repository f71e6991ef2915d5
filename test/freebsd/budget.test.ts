/**
 * The kexec segment budget (KEXEC_SEGMENT_MAX = 16, sys/sys/kexec.h) with a realistic module set: the amd64 test
 * kernel plus ten freebsd-14-amd64 modules named on the command line (and whatever linker.hints adds for them)
 * must fit in at most 16 segments, and the text output must print the hand-off line with the values the JSON
 * plan reports.
 */
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {basename, join} from 'node:path';
import {CLI_BUILT, CORPUS_SKIP, runCli} from '../helpers/corpus.js';
import {FB14_DIR, planJsonOk, writeFb14Kernel, type PlanJson} from '../helpers/freebsd-plan-run.js';

const skip = CORPUS_SKIP || (CLI_BUILT ? false : 'dist/ is not built (npm run build)');
const TEN = ['if_em', 'dummynet', 'if_iwm', 'nfsd', 'ng_ubt', 'mlx5en', 'qat', 'linux64', 'hgame', 'kgssapi_krb5'];

describe('amd64 test kernel + ten freebsd-14-amd64 modules', {skip}, () => {
  let tmp = '';
  let args: string[] = [];
  let plan: PlanJson | undefined;
  const get = (): PlanJson => {
    assert.ok(plan !== undefined, 'the plan was made');
    return plan;
  };

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'kexec-ts-budget-'));
    args = ['--module-path', FB14_DIR, '--howto', '-s -v', writeFb14Kernel(tmp), ...TEN];
    plan = (await planJsonOk(args)).plan;
  });
  after(() => {
    if (tmp !== '') rmSync(tmp, {recursive: true, force: true});
  });

  test('all ten modules (and their dependencies) are planned', () => {
    assert.equal(TEN.length, 10);
    const names = get().handoff.files.map((f) => basename(f.name));
    for (const m of TEN) assert.ok(names.includes(`${m}.ko`), `${m}.ko is among the planned files`);
    assert.ok(names.length > TEN.length + 1, `dependencies were added too (${names.length} files)`);
    assert.equal(new Set(names).size, names.length, 'no file twice');
  });

  test('at most 16 segments, and the budget says so', () => {
    const p = get();
    assert.ok(p.segments.length >= 1 && p.segments.length <= 16, `${p.segments.length} segments`);
    assert.equal(p.budget.used, p.segments.length, 'budget.used counts the segments');
    assert.ok(p.budget.used <= 16, `budget.used ${p.budget.used} <= 16`);
    assert.equal(p.budget.max, 16, 'budget.max is KEXEC_SEGMENT_MAX');
    let prevEnd = 0n;
    for (const s of p.segments) {
      assert.equal(BigInt(s.mem) % 0x1000n, 0n, `segment ${s.index} page aligned`);
      assert.ok(BigInt(s.mem) >= prevEnd, `segment ${s.index} sorted and disjoint`);
      assert.ok(BigInt(s.bufsz) <= BigInt(s.memsz), `segment ${s.index} bufsz <= memsz`);
      prevEnd = BigInt(s.mem) + BigInt(s.memsz);
    }
  });

  test('text output prints the entry, the segment count and the hand-off line (entry, modulep, kernend)', async () => {
    const p = get();
    const r = await runCli(['plan', ...args]);
    assert.equal(r.code, 0, `text plan succeeds: ${r.stderr.slice(0, 400)}`);
    assert.doesNotMatch(r.stdout, /^\s*[{[]/, 'text output is not JSON');
    const entryLine = /^\s*entry (0x[0-9a-f]+)\s*$/m.exec(r.stdout);
    assert.ok(entryLine !== null, `an "entry 0x..." line:\n${r.stdout.slice(0, 800)}`);
    assert.equal(entryLine[1], p.entry, 'entry line shows the trampoline (plan.entry)');
    assert.equal(p.entry, p.handoff.entry, 'plan.entry is handoff.entry');
    const seg = /segments: (\d+)\/16/.exec(r.stdout);
    assert.ok(seg !== null, 'a "segments: N/16" line');
    assert.equal(Number(seg[1]), p.budget.used);
    const line = /^\s*hand-off: (.*)$/m.exec(r.stdout);
    assert.ok(line !== null, `a "hand-off:" line:\n${r.stdout.slice(0, 800)}`);
    const fields = new Map(line[1]?.split(', ').map((kv) => kv.split(' ') as [string, string]));
    assert.equal(fields.get('kernelEntry'), p.handoff.kernelEntry, 'hand-off line: kernel entry');
    assert.equal(fields.get('modulep'), p.handoff.modulep, 'hand-off line: modulep');
    assert.equal(fields.get('kernend'), p.handoff.kernend, 'hand-off line: kernend');
  });
});
