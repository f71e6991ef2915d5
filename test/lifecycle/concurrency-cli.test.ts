/**
 * The simulated machine's STATEDIR/lock and crash safety through the CLI, in real processes (`node bin/run.js`),
 * with the stage gate (test/helpers/stage-gate.ts) holding the first load inside the lock, its first segment bytes
 * written, for as long as the test needs: so the overlap and the kill are certain, not hoped for from timing.
 *   - a `load` started while another holds the lock is EBUSY (exit 6, naming the holder's pid and the lock), and
 *     the holder, once let go, stages its whole image;
 *   - a `load` killed with SIGKILL while it writes its generation leaves the previously staged image intact: status
 *     still shows it, exec verifies it, and the next load succeeds.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readFileSync, readdirSync, readlinkSync, statSync} from 'node:fs';
import {join} from 'node:path';
import {stageGate} from '../helpers/stage-gate.js';
import {
  CLI_SKIP, expectExit, jsonError, oneJson, runCli, show, sim, startCli, tempDir, writeSmallElf,
  type BootJSON, type LoadJSON, type StatusJSON,
} from '../helpers/lifecycle-cli.js';

const PROFILE = ['--profile', 'amd64-4g'];

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function status(state: string): Promise<StatusJSON> {
  return oneJson<StatusJSON>(expectExit(await runCli(['status', ...sim(state), '--json']), 0, 'status --json'));
}

describe('concurrent and interrupted loads', {skip: CLI_SKIP}, () => {
  test('a load while another holds the lock is EBUSY naming it; the holder then stages its whole image', async (t) => {
    const dir = tempDir(t);
    const state = join(dir, 'state');
    const first = writeSmallElf(dir, 'first.elf', 1);
    const second = writeSmallElf(dir, 'second.elf', 2);
    const gate = stageGate(t);
    const held = startCli(['load', ...sim(state), ...PROFILE, first, '--json'], {env: gate.env});
    t.after(() => held.child.kill('SIGKILL'));
    const pid = await gate.inside(held.done);
    assert.equal(pid, held.child.pid);

    const busy = await runCli(['load', ...sim(state), ...PROFILE, second, '--json']);
    const err = jsonError(busy, 6);
    assert.equal(err.reason, 'EBUSY');
    assert.equal(err.message, `EBUSY: another load is in progress (pid ${pid} holds ${join(state, 'lock')})`);
    assert.equal(err.details?.lock, join(state, 'lock'));
    assert.equal(err.details?.pid, pid);
    assert.equal((await status(state)).staged, null, 'nothing is staged while the first load is held');

    await gate.open();
    const won = oneJson<LoadJSON>(expectExit(await held.done, 0, 'the held load'));
    assert.deepEqual((await status(state)).staged?.files, [first]);
    assert.equal((await status(state)).staged?.digest, won.plan.digest, 'the winner is staged');
    const boot = oneJson<BootJSON>(expectExit(await runCli(['exec', '--yes', ...sim(state), '--json']), 0, 'exec of the winner'));
    assert.equal(boot.digest, won.plan.digest);
    assert.equal(boot.segmentsVerified, won.plan.segments.length);
    assert.ok(!existsSync(join(state, 'lock')), 'the lock is released');
  });

  test('the text-mode refusal marks the failed Stage step and names the lock in one line', async (t) => {
    const dir = tempDir(t);
    const state = join(dir, 'state');
    const gate = stageGate(t);
    const held = startCli(['load', ...sim(state), ...PROFILE, writeSmallElf(dir, 'a.elf', 1)], {env: gate.env});
    t.after(() => held.child.kill('SIGKILL'));
    const pid = await gate.inside(held.done);
    const busy = await runCli(['load', ...sim(state), ...PROFILE, writeSmallElf(dir, 'b.elf', 2)]);
    expectExit(busy, 6, 'the second load');
    assert.match(busy.stderr, /^✖ .*Stage/m, `the failed Stage step is marked: ${show(busy)}`);
    assert.match(busy.stderr, new RegExp(`^kexec-ts: EBUSY: another load is in progress \\(pid ${pid} holds ${escape(join(state, 'lock'))}\\)$`, 'm'));
    await gate.open();
    expectExit(await held.done, 0, 'the held load');
  });

  test('a load killed with SIGKILL while staging leaves the previous image staged and usable', async (t) => {
    const dir = tempDir(t);
    const state = join(dir, 'state');
    const small = writeSmallElf(dir);
    const previous = oneJson<LoadJSON>(expectExit(await runCli(['load', ...sim(state), ...PROFILE, small, '--json']), 0, 'load small'));
    const gate = stageGate(t);
    const run = startCli(['load', ...sim(state), ...PROFILE, writeSmallElf(dir, 'other.elf', 7)], {env: gate.env});
    t.after(() => run.child.kill('SIGKILL'));
    await gate.inside(run.done);
    const current = readlinkSync(join(state, 'current'));
    const half = readdirSync(state).filter((n) => n.startsWith('gen-') && n !== current);
    assert.equal(half.length, 1, 'one generation is being written');
    const gen = half[0] as string;
    assert.ok(!existsSync(join(state, gen, 'plan.json')) && statSync(join(state, gen, 'segment-00.bin')).size > 0, 'it is half-written');
    run.child.kill('SIGKILL');
    const r = await run.done;
    assert.equal(r.signal, 'SIGKILL', show(r));

    const st = await status(state);
    assert.equal(st.staged?.digest, previous.plan.digest);
    assert.deepEqual(st.staged.files, [small], 'status still shows the previous image');
    assert.ok(existsSync(join(state, gen)), 'the half-written generation is still there before the next locked operation');
    assert.equal(readFileSync(join(state, 'lock'), 'utf8').split('\n')[0], String(run.child.pid), 'the dead load\'s lock is left');

    const boot = oneJson<BootJSON>(expectExit(await runCli(['exec', '--yes', ...sim(state), '--json']), 0, 'exec after the kill'));
    assert.equal(boot.digest, previous.plan.digest);
    assert.equal(boot.segmentsVerified, previous.plan.segments.length);
    const left = readdirSync(state).filter((n) => n.startsWith('gen-') || n.startsWith('lock') || n.startsWith('.current'));
    assert.deepEqual(left, [], 'exec broke the dead process\'s lock and removed its generation');

    const again = oneJson<LoadJSON>(expectExit(await runCli(['load', ...sim(state), ...PROFILE, small, '--json']), 0, 'a new load'));
    assert.equal((await status(state)).staged?.digest, again.plan.digest);
  });
});
