/**
 * `--json` keeps stdout machine-readable: for every command, with stdout and stderr captured separately, stdout is
 * exactly one JSON document (the result, or `{"error": …}` with the exit code) and stderr holds no JSON and no
 * stack trace. Progress (listr2's simple renderer, because stderr is not a terminal) goes to stderr only, and only
 * `load` has any. Each command runs against its own state directory, prepared by a text-mode load when it needs an
 * image staged. The table runs in this process; one success and each failure exit code run again as real
 * processes (`node bin/run.js`), so the exit status and the two pipes are what a script sees.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {
  CLI_SKIP, assertNoStack, assertOneErrorLine, expectExit, jsonError, oneJson, runCli, runCliProcess, show, sim, tempDir,
  writeSmallElf, type CliRun,
} from '../helpers/lifecycle-cli.js';

const PROFILE = ['--profile', 'amd64-4g'];

interface Case {
  readonly name: string;
  /** Stage the small image first. */
  readonly staged?: boolean;
  /** Arguments before --json; DIR is the test's temp dir, STATE its state dir, IMAGE the small ELF. */
  args(dir: string, state: string, image: string): string[];
  /** Exit code (0: the result; otherwise an error document with this code). */
  readonly code: number;
  /** Whether listr progress is expected on stderr. */
  readonly progress?: boolean;
  check?(doc: Record<string, unknown>, dir: string): void;
}

const cases: Case[] = [
  {name: 'inspect', args: (_d, _s, img) => ['inspect', img], code: 0, check: (d) => assert.equal(d.entry, '0x200010')},
  {name: 'plan', args: (_d, _s, img) => ['plan', ...PROFILE, img], code: 0, check: (d) => assert.match(String(d.digest), /^[0-9a-f]{64}$/)},
  {
    name: 'load', args: (_d, s, img) => ['load', ...sim(s), ...PROFILE, img], code: 0, progress: true,
    check: (d) => assert.equal((d.staged as {backend?: string} | null)?.backend, 'sim'),
  },
  {
    name: 'load --dry-run', args: (_d, s, img) => ['load', ...sim(s), ...PROFILE, '--dry-run', img], code: 0, progress: true,
    check: (d) => assert.deepEqual([d.dryRun, d.staged], [true, null]),
  },
  {name: 'status', staged: true, args: (_d, s) => ['status', ...sim(s)], code: 0, check: (d) => assert.notEqual(d.staged, null)},
  {name: 'exec', staged: true, args: (_d, s) => ['exec', '--yes', ...sim(s)], code: 0, check: (d) => assert.equal(d.segmentsVerified, 2)},
  {name: 'unload', staged: true, args: (_d, s) => ['unload', ...sim(s)], code: 0, check: (d) => assert.notEqual(d.unloaded, null)},
  {
    name: 'init --dir', args: (d) => ['init', '--dir', join(d, 'etc')], code: 0,
    check: (d, dir) => {
      assert.deepEqual(d.written, [join(dir, 'etc', '.kexec-tsrc.yaml')]);
      assert.ok(existsSync(join(dir, 'etc', '.kexec-tsrc.yaml')));
    },
  },
  // Failures: the error document on stdout, exit code = error.code.
  {name: 'exec, nothing staged', args: (_d, s) => ['exec', '--yes', ...sim(s)], code: 7},
  {name: 'inspect, not an ELF file', args: (d) => ['inspect', join(d, 'not-elf')], code: 3},
  {name: 'load, missing image', args: (d, s) => ['load', ...sim(s), join(d, 'missing.elf')], code: 3, progress: true},
  {name: 'plan, unknown flag', args: (_d, _s, img) => ['plan', '--no-such-flag', img], code: 2},
  {name: 'load, outside RAM', args: (_d, s, img) => ['load', ...sim(s), '--profile', 'arm64-virt-2g', img], code: 4, progress: true},
  {name: 'init, file exists', args: () => ['init', '--dir', '.'], code: 2},
];

function checkStreams(c: Case, r: CliRun): Record<string, unknown> {
  assert.equal(r.code, c.code, show(r));
  const doc = c.code === 0 ? oneJson(r) : {error: jsonError(r, c.code)};
  assertNoStack(r.stderr, 'stderr');
  assertNoStack(r.stdout, 'stdout');
  for (const line of r.stderr.split('\n')) {
    assert.doesNotMatch(line, /^\s*[{}[\]]\s*$|^\s*"[\w-]+": /, `stderr holds JSON: ${show(r)}`);
  }
  assert.doesNotMatch(r.stdout, /[❯✔✖↓]/, 'no progress symbols on stdout');
  if (c.progress === true) {
    assert.match(r.stderr, /^[❯✔✖] .*(Select|backend)/m, `progress on stderr: ${show(r)}`);
    if (c.code === 0) {
      assert.match(r.stderr, /^✔ Planned \d+ file\(s\) into \d+\/16 segments/m);
      assert.match(r.stderr, /Stage/);
    } else {
      assert.match(r.stderr, /^✖ /m, 'the failed step is marked');
    }
  } else if (c.code === 0) {
    assert.equal(r.stderr, '', `nothing on stderr: ${show(r)}`);
  }
  return doc;
}

describe('--json: one JSON document on stdout, progress and nothing else on stderr', {skip: CLI_SKIP, concurrency: 2}, () => {
  for (const c of cases) {
    test(`${c.name}${c.code === 0 ? '' : ` (exit ${c.code})`}`, async (t) => {
      const dir = tempDir(t);
      const state = join(dir, 'state');
      const image = writeSmallElf(dir);
      writeFileSync(join(dir, 'not-elf'), 'hello\n');
      writeFileSync(join(dir, '.kexec-tsrc.yaml'), '# exists\n');
      if (c.staged === true) expectExit(await runCli(['load', ...sim(state), ...PROFILE, image]), 0, 'preparing load');
      const r = await runCli([...c.args(dir, state, image), '--json'], {cwd: dir});
      const doc = checkStreams(c, r);
      c.check?.(doc, dir);
    });
  }

  test('load --json stages the plan that plan --json prints (same digest)', async (t) => {
    const dir = tempDir(t);
    const image = writeSmallElf(dir);
    const load = oneJson<{plan: {digest: string}}>(expectExit(await runCli(['load', ...sim(join(dir, 's')), ...PROFILE, image, '--json']), 0));
    const plan = oneJson<{digest: string}>(expectExit(await runCli(['plan', ...PROFILE, image, '--json']), 0));
    assert.equal(load.plan.digest, plan.digest);
  });

  test('load --json always says whether it was a dry run', async (t) => {
    const dir = tempDir(t);
    const r = expectExit(await runCli(['load', ...sim(join(dir, 's')), ...PROFILE, writeSmallElf(dir), '--json']), 0);
    assert.equal(oneJson(r).dryRun, false);
  });

  test('status --check --json with nothing staged: the same document as status --json, and exit 7', async (t) => {
    const dir = tempDir(t);
    const r = await runCli(['status', ...sim(join(dir, 's')), '--check', '--json']);
    assert.equal(r.code, 7, r.stderr);
    assert.equal(r.stderr, '');
    const plain = expectExit(await runCli(['status', ...sim(join(dir, 's')), '--json']), 0);
    assert.deepEqual(oneJson(r), oneJson(plain));
    assert.equal(oneJson(r).staged, null);
  });
});

describe('exit status and pipes of a real process', {skip: CLI_SKIP, concurrency: 2}, () => {
  const asProcess = ['load', 'exec, nothing staged', 'inspect, not an ELF file', 'plan, unknown flag', 'load, outside RAM'];
  for (const c of cases.filter((x) => asProcess.includes(x.name))) {
    test(`${c.name}: exit ${c.code} --json`, async (t) => {
      const dir = tempDir(t);
      writeFileSync(join(dir, 'not-elf'), 'hello\n');
      const r = await runCliProcess([...c.args(dir, join(dir, 'state'), writeSmallElf(dir)), '--json'], {cwd: dir});
      assert.equal(r.signal, null, show(r));
      c.check?.(checkStreams(c, r), dir);
    });
  }

  test('a text-mode failure: exit 3, stdout empty, one error line on stderr', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'not-elf'), 'hello\n');
    const r = expectExit(await runCliProcess(['inspect', join(dir, 'not-elf')]), 3);
    assertOneErrorLine(r, /^kexec-ts: \S+not-elf: not an ELF file /);
  });
});
