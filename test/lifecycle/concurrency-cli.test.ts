/**
 * The simulated machine's STATEDIR/lock and crash safety, through the CLI with a 256 MiB image (streamed to a temp
 * file, deleted afterwards; one PT_LOAD at p_paddr 0x1000000, inside amd64-4g's RAM), so that staging takes long
 * enough to overlap with another process or be killed in the middle:
 *   - two `load`s on one state directory give one success and one EBUSY (exit 6, naming the lock). Two loads started
 *     together reach the lock at about the same time; when they happen not to overlap (both succeed), the test
 *     retries with the second load (a small image, so it reaches the lock in well under the time the first spends
 *     staging) started once the first has printed its "Stage" progress line.
 *   - a `load` killed with SIGKILL while it writes its generation leaves the previously staged image intact: status
 *     still shows it, exec verifies it, and the next load succeeds.
 */
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import {
  CLI_SKIP, expectExit, jsonError, oneJson, runCli, show, sim, startCli, writeLargeElf, writeSmallElf,
  type BootJSON, type CliRun, type LoadJSON, type Running, type StatusJSON,
} from '../helpers/lifecycle-cli.js';

const PROFILE = ['--profile', 'amd64-4g'];
const LARGE_SIZE = 256 << 20;
let dir = '';
let large = '';
let small = '';

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function status(state: string): Promise<StatusJSON> {
  return oneJson<StatusJSON>(expectExit(await runCli(['status', ...sim(state), '--json']), 0, 'status --json'));
}

/** The two loads of one attempt: together, or the second (small) once the first prints its Stage line. */
async function race(state: string, staggered: boolean): Promise<CliRun[]> {
  const first = startCli(['load', ...sim(state), ...PROFILE, large, '--json']);
  if (staggered) await first.stderrLine(/Stage/).catch(() => undefined);
  const second = startCli(['load', ...sim(state), ...PROFILE, staggered ? small : large, '--json']);
  return Promise.all([first.done, second.done]);
}

/** Waits until the load writes a segment file into a generation `current` does not point at. */
async function waitForStaging(state: string, run: Running): Promise<{gen: string; size: number} | undefined> {
  let exited = false;
  void run.done.then(() => (exited = true));
  while (!exited) {
    let current: string | undefined;
    try {
      current = readlinkSync(join(state, 'current'));
    } catch {
      current = undefined;
    }
    for (const gen of existsSync(state) ? readdirSync(state) : []) {
      if (!gen.startsWith('gen-') || gen === current) continue;
      const seg = join(state, gen, 'segment-00.bin');
      const size = existsSync(seg) ? statSync(seg, {throwIfNoEntry: false})?.size ?? 0 : 0;
      if (size > 0) return {gen, size};
    }
    await sleep(5);
  }
  return undefined;
}

describe('concurrent and interrupted loads (256 MiB image)', {skip: CLI_SKIP}, () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kexec-life-big-'));
    large = join(dir, 'large.elf');
    writeLargeElf(large, LARGE_SIZE);
    small = writeSmallElf(dir);
  });
  after(() => rmSync(dir, {recursive: true, force: true}));

  test('two loads at once on one state directory: one succeeds, the other is EBUSY naming the lock', {timeout: 600_000}, async () => {
    const outcomes: string[] = [];
    let overlapped = false;
    for (let attempt = 0; attempt < 5 && !overlapped; attempt++) {
      const state = join(dir, `race-${attempt}`);
      try {
        const runs = await race(state, attempt > 0);
        outcomes.push(runs.map((r) => r.code).join('/'));
        for (const r of runs) assert.ok(r.code === 0 || r.code === 6, `each load succeeds or is EBUSY: ${show(r)}`);
        const won = runs.filter((r) => r.code === 0);
        assert.ok(won.length >= 1, `a lock must never make both loads fail: ${runs.map(show).join('\n')}`);
        const busy = runs.filter((r) => r.code === 6);
        for (const r of busy) {
          const err = jsonError(r, 6);
          assert.equal(err.reason, 'EBUSY');
          assert.match(err.message, new RegExp(`^EBUSY: another load is in progress \\(pid \\d+ holds ${escape(join(state, 'lock'))}\\)$`));
          assert.equal(err.details?.lock, join(state, 'lock'));
          assert.match(r.stderr, /^✖ /m, 'the failed Stage step is marked in the progress');
        }
        const last = oneJson<LoadJSON>(won[won.length - 1] as CliRun);
        const staged = (await status(state)).staged;
        if (busy.length === 1) {
          overlapped = true;
          assert.equal(staged?.digest, last.plan.digest, 'the winner is staged');
          const boot = oneJson<BootJSON>(expectExit(await runCli(['exec', '--yes', ...sim(state), '--json']), 0, 'exec of the winner'));
          assert.equal(boot.digest, last.plan.digest);
          assert.equal(boot.segmentsVerified, last.plan.segments.length);
        } else {
          assert.ok(won.some((r) => oneJson<LoadJSON>(r).plan.digest === staged?.digest), 'one of the two whole images is staged');
        }
        assert.ok(!existsSync(join(state, 'lock')), 'the lock is released');
      } finally {
        rmSync(state, {recursive: true, force: true});
      }
    }
    assert.ok(overlapped, `no attempt overlapped (exit codes per attempt: ${outcomes.join(', ')})`);
  });

  test('a load killed with SIGKILL while staging leaves the previous image staged and usable', {timeout: 600_000}, async () => {
    const state = join(dir, 'killed');
    let killedMidStage = false;
    try {
      for (let attempt = 0; attempt < 3 && !killedMidStage; attempt++) {
        const previous = oneJson<LoadJSON>(expectExit(await runCli(['load', ...sim(state), ...PROFILE, small, '--json']), 0, 'load small'));
        const run = startCli(['load', ...sim(state), ...PROFILE, large]);
        const seen = await waitForStaging(state, run);
        if (seen !== undefined) run.child.kill('SIGKILL');
        const r = await run.done;
        const st = await status(state);
        if (r.signal !== 'SIGKILL' || st.staged?.digest !== previous.plan.digest) continue; // too late: it finished
        killedMidStage = true;
        assert.ok(seen !== undefined && seen.size <= LARGE_SIZE);
        assert.deepEqual(st.staged.files, [small], 'status still shows the previous image');
        assert.ok(existsSync(join(state, seen.gen)), 'the half-written generation is still there before the next locked operation');

        const boot = oneJson<BootJSON>(expectExit(await runCli(['exec', '--yes', ...sim(state), '--json']), 0, 'exec after the kill'));
        assert.equal(boot.digest, previous.plan.digest);
        assert.equal(boot.segmentsVerified, previous.plan.segments.length);
        const left = readdirSync(state).filter((n) => n.startsWith('gen-') || n.startsWith('lock') || n.startsWith('.current'));
        assert.deepEqual(left, [], 'exec broke the dead process\'s lock and removed its generation');

        const again = oneJson<LoadJSON>(expectExit(await runCli(['load', ...sim(state), ...PROFILE, small, '--json']), 0, 'a new load'));
        assert.equal((await status(state)).staged?.digest, again.plan.digest);
      }
      assert.ok(killedMidStage, 'the large load was never caught while staging');
    } finally {
      rmSync(state, {recursive: true, force: true});
    }
  });
});
