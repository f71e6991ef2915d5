/**
 * The whole staged-image lifecycle on the simulated machine, through the compiled CLI as a script would drive it:
 * load → status (--json, --check) → exec (--json and text) → status shows the boot and nothing staged → load again →
 * unload → exec with nothing staged (exit 7, or 0 with --force). Run for a generic ELF from the corpus (skipped
 * when ../shared/corpus is absent) and for a FreeBSD-shaped kernel built in code (with --env and --howto, whose
 * hand-off the boot report must show). Every test has its own state directory.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {buildFreeBsdKernel} from '../fixtures/freebsd-kernel.js';
import {CORPUS_SKIP, corpusFile} from '../helpers/corpus.js';
import {
  CLI_SKIP, assertOneErrorLine, expectExit, jsonError, oneJson, runCli, show, sim, tempDir,
  type BootJSON, type LoadJSON, type PlanJSONOut, type StatusJSON,
} from '../helpers/lifecycle-cli.js';

interface Case {
  readonly name: string;
  readonly skip: string | false;
  /** The image path, made when the suite runs (in `dir`). */
  image(dir: string): string;
  /** Load flags besides the image. */
  readonly flags: readonly string[];
  readonly kind: string;
  /** Extra checks on the text boot report. */
  checkReport?(stdout: string, image: string): void;
}

const GNUMACH = corpusFile('debian/gnumach-image-1.8-486_amd64/gnumach-1.8-486');

const cases: Case[] = [
  {
    name: 'generic ELF (corpus: gnumach-1.8-486)',
    skip: CLI_SKIP || CORPUS_SKIP || (existsSync(GNUMACH) ? false : `${GNUMACH} not found`),
    image: () => GNUMACH,
    flags: ['--profile', 'amd64-4g'],
    kind: 'elf',
    checkReport: (stdout) => {
      assert.match(stdout, /^bytes at entry 0x1000000: [0-9a-f]{2}( [0-9a-f]{2}){15}$/m);
      assert.match(stdout, /PT_LOAD 0 \(file 0xc000, memory 0xc000\)/);
    },
  },
  {
    name: 'FreeBSD kernel (buildFreeBsdKernel amd64 1402000)',
    skip: CLI_SKIP,
    image: (dir) => {
      const path = join(dir, 'kernel');
      if (!existsSync(path)) writeFileSync(path, buildFreeBsdKernel({arch: 'amd64', version: 1402000}));
      return path;
    },
    flags: ['--profile', 'amd64-4g', '--env', 'hw.test=1', '--howto', '-v'],
    kind: 'freebsd',
    checkReport: (stdout, image) => {
      assert.match(stdout, /FreeBSD hand-off: metadata at 0x[0-9a-f]+/);
      assert.match(stdout, new RegExp(`^\\s+elf kernel\\s+${image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s`, 'm'), 'the "elf kernel" file is listed');
      const env = stdout.slice(stdout.search(/environment \(\d+ variables?/));
      assert.match(env, /^\s+hw\.test=1$/m, 'the --env variable reaches the kernel environment');
      assert.match(env, /^\s+boot_verbose=YES$/m, '--howto -v sets boot_verbose');
    },
  },
];

async function loadJson(stateDir: string, image: string, flags: readonly string[]): Promise<LoadJSON> {
  const r = expectExit(await runCli(['load', ...sim(stateDir), ...flags, image, '--json']), 0, 'load --json');
  return oneJson<LoadJSON>(r);
}

async function statusJson(stateDir: string): Promise<StatusJSON> {
  return oneJson<StatusJSON>(expectExit(await runCli(['status', ...sim(stateDir), '--json']), 0, 'status --json'));
}

for (const c of cases) {
  describe(`sim lifecycle: ${c.name}`, {skip: c.skip}, () => {
    test('load → status shows it staged → exec --json verifies it → status shows the boot, nothing staged', async (t) => {
      const dir = tempDir(t);
      const state = join(dir, 'state');
      const image = c.image(dir);
      const loaded = await loadJson(state, image, c.flags);
      assert.equal(loaded.backend, 'sim');
      assert.equal(loaded.dryRun, false);
      assert.equal(loaded.plan.kind, c.kind);
      assert.match(loaded.plan.digest, /^[0-9a-f]{64}$/);
      assert.equal(loaded.staged?.digest, loaded.plan.digest);

      const before = await statusJson(state);
      assert.equal(before.backend, 'sim');
      assert.equal(before.stateDir, state);
      assert.equal(before.booted, null);
      assert.ok(before.staged !== null, 'something is staged');
      assert.deepEqual(before.staged.files, [image]);
      assert.equal(before.staged.digest, loaded.plan.digest);
      assert.equal(before.staged.backend, 'sim');
      assert.equal(before.staged.kind, c.kind);
      assert.equal(before.staged.entry, loaded.plan.entry);
      assert.equal(before.staged.segments, loaded.plan.segments.length);
      const check = expectExit(await runCli(['status', ...sim(state), '--check']), 0, 'status --check with an image staged');
      assert.ok(check.stdout.includes(`digest ${loaded.plan.digest}`), show(check));

      const boot = oneJson<BootJSON>(expectExit(await runCli(['exec', '--yes', ...sim(state), '--json']), 0, 'exec --json'));
      assert.equal(boot.backend, 'sim');
      assert.equal(boot.digest, loaded.plan.digest);
      assert.equal(boot.entry, loaded.plan.entry);
      assert.equal(boot.segmentsVerified, loaded.plan.segments.length);

      const after = await statusJson(state);
      assert.equal(after.staged, null, 'exec consumes the staged image');
      assert.equal(after.booted?.digest, loaded.plan.digest);
      assert.equal(after.booted?.kernel, image);
      const text = expectExit(await runCli(['status', ...sim(state)]), 0);
      assert.match(text.stdout, /^nothing staged$/m);
      assert.ok(text.stdout.includes(`booted: ${image} (digest ${loaded.plan.digest.slice(0, 16)}`), show(text));
      const gone = await runCli(['status', ...sim(state), '--check']);
      assert.equal(gone.code, 7, `status --check with nothing staged: ${show(gone)}`);
      assert.deepEqual(readdirSync(state).filter((n) => n.startsWith('gen-') || n === 'current' || n === 'lock'), [], 'no staged generation or lock is left');
    });

    test('the text exec report says the plan digest and every segment were verified', async (t) => {
      const dir = tempDir(t);
      const state = join(dir, 'state');
      const image = c.image(dir);
      const loadText = expectExit(await runCli(['load', ...sim(state), ...c.flags, image]), 0, 'load');
      const digest = /digest ([0-9a-f]{64})/.exec(loadText.stdout)?.[1];
      assert.ok(digest !== undefined, `load names the digest: ${show(loadText)}`);
      const staged = (await statusJson(state)).staged;
      assert.ok(staged !== null);
      const r = expectExit(await runCli(['exec', '--yes', ...sim(state)]), 0, 'exec');
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /^backend: sim \(/m);
      assert.ok(r.stdout.includes(`plan digest verified: ${digest}`), show(r));
      const verified = /^(\d+) segments? verified \(SHA-256/m.exec(r.stdout)?.[1];
      assert.equal(Number(verified), staged.segments, show(r));
      assert.match(r.stdout, new RegExp(`^entry ${staged.entry} in segment \\d+ `, 'm'));
      c.checkReport?.(r.stdout, image);
    });

    test('unload clears the staged image; exec with nothing staged exits 7, or 0 with --force', async (t) => {
      const dir = tempDir(t);
      const state = join(dir, 'state');
      const image = c.image(dir);
      const loaded = await loadJson(state, image, c.flags);
      const un = expectExit(await runCli(['unload', ...sim(state)]), 0, 'unload');
      assert.ok(un.stdout.includes(loaded.plan.digest.slice(0, 16)), `unload names what it dropped: ${show(un)}`);
      assert.equal((await statusJson(state)).staged, null);
      const again = oneJson<{backend: string; unloaded: unknown}>(expectExit(await runCli(['unload', ...sim(state), '--json']), 0));
      assert.deepEqual(again, {backend: 'sim', unloaded: null}, 'a second unload has nothing to drop');

      const text = await runCli(['exec', '--yes', ...sim(state)]);
      assert.equal(text.code, 7, show(text));
      assertOneErrorLine(text, /^kexec-ts: .*nothing is staged/);
      const json = await runCli(['exec', '--yes', ...sim(state), '--json']);
      const err = jsonError(json, 7);
      assert.match(err.message, /nothing is staged/);
      assert.equal(json.stderr, '', 'a --json failure writes nothing to stderr');

      const forced = oneJson<BootJSON>(expectExit(await runCli(['exec', '--yes', ...sim(state), '--force', '--json']), 0, 'exec --force'));
      assert.equal(forced.segmentsVerified, 0);
      assert.equal(forced.handoff.reboot, 'normal');
      const forcedText = expectExit(await runCli(['exec', '--yes', ...sim(state), '--force']), 0, 'exec --force (text)');
      assert.match(forcedText.stdout, /reboots normally/);
      assert.equal((await statusJson(state)).booted, null, 'a normal reboot boots no staged image');
    });

    test('load --dry-run returns the plan and stages nothing', async (t) => {
      const dir = tempDir(t);
      const state = join(dir, 'state');
      const image = c.image(dir);
      const dry = oneJson<LoadJSON>(expectExit(await runCli(['load', ...sim(state), ...c.flags, image, '--dry-run', '--json']), 0, 'load --dry-run'));
      assert.equal(dry.dryRun, true);
      assert.equal(dry.staged, null);
      assert.equal(dry.plan.kind, c.kind);
      const planned = oneJson<PlanJSONOut>(expectExit(await runCli(['plan', ...c.flags, image, '--json']), 0, 'plan'));
      assert.equal(dry.plan.digest, planned.digest, 'the dry run plans exactly what `plan` plans');
      assert.deepEqual(dry.plan.segments, planned.segments);
      const st = await statusJson(state);
      assert.equal(st.staged, null, 'a dry run stages nothing');
      assert.equal((await runCli(['status', ...sim(state), '--check'])).code, 7);
      const text = expectExit(await runCli(['load', ...sim(state), ...c.flags, image, '--dry-run']), 0);
      assert.match(text.stdout, /^dry run: .* would be staged on the sim backend$/m);
      assert.doesNotMatch(text.stdout, /next: kexec-ts exec/);
      assert.equal(existsSync(state), false, 'a dry run creates no state at all');
    });
  });
}
