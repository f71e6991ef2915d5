/**
 * Configuration through the CLI: a bad config file (YAML syntax, strict JSON, unknown key, wrong type) is exit 2
 * with one `kexec-ts: FILE:LINE: …` line naming the key; flags override the file key by key (--backend,
 * --profile); a config found by searching from the working directory applies; `init` writes the template, refuses
 * to overwrite it without --force, and with --script writes the executable upgrade script.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {readFileSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {PROJECT_ROOT} from '../helpers/corpus.js';
import {
  CLI_SKIP, assertOneErrorLine, expectExit, jsonError, oneJson, runCli, show, sim, tempDir, writeSmallElf,
  type BootJSON, type LoadJSON, type StatusJSON,
} from '../helpers/lifecycle-cli.js';

const TEMPLATE = join(PROJECT_ROOT, 'templates', 'config', 'kexec-ts.yaml');
const SCRIPT = join(PROJECT_ROOT, 'templates', 'scripts', 'freebsd-update-kexec.sh');

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface BadConfig {
  readonly name: string;
  readonly file: string;
  readonly text: string;
  readonly line: number;
  /** The key the message must name (undefined for syntax errors, which name only the line). */
  readonly key?: string;
  readonly reason: string;
  readonly message: RegExp;
}

const bad: BadConfig[] = [
  {name: 'broken YAML', file: 'broken.yaml', text: 'backend: sim\nprofile: amd64-4g: x\nstateDir: /tmp/x\n', line: 2, reason: 'config-syntax', message: /syntax error: /},
  {name: 'not strict JSON', file: 'trailing.json', text: '{\n  "backend": "sim",\n  "profile": "amd64-4g",\n}\n', line: 4, reason: 'config-syntax', message: /syntax error: .*not valid JSON/},
  {name: 'unknown key', file: 'unknown.yaml', text: 'backend: sim\nnative:\n  libary: /lib/libsys.so.7\n', line: 3, key: 'native.libary', reason: 'config-unknown-key', message: /unknown key "native\.libary" .*did you mean "native\.library"\?/},
  {name: 'wrong type', file: 'type.yaml', text: '# sim machine\nbackend: sim\nsim:\n  privileged: true\n  securelevel: high\n', line: 5, key: 'sim.securelevel', reason: 'config-type', message: /"sim\.securelevel" must be an integer from -1 to 3; got "high"/},
];

describe('config files through the CLI', {skip: CLI_SKIP}, () => {
  for (const c of bad) {
    test(`${c.name}: status --config exits 2 with one line naming the file, line${c.key === undefined ? '' : ' and key'}`, async (t) => {
      const dir = tempDir(t);
      const file = join(dir, c.file);
      writeFileSync(file, c.text);
      const r = await runCli(['status', '--config', file, '--state-dir', join(dir, 's')]);
      assert.equal(r.code, 2, show(r));
      const line = assertOneErrorLine(r, new RegExp(`^kexec-ts: ${escape(file)}:${c.line}: `));
      assert.match(line, c.message);
      if (c.key !== undefined) assert.ok(line.includes(`"${c.key}"`), `the key is named: ${line}`);
      const err = jsonError(await runCli(['status', '--config', file, '--state-dir', join(dir, 's'), '--json']), 2);
      assert.equal(err.reason, c.reason);
      assert.deepEqual([err.details?.file, err.details?.line], [file, c.line]);
      if (c.key !== undefined) assert.equal(err.details?.key, c.key);
    });
  }

  test('a missing --config file is exit 2 naming it', async (t) => {
    const file = join(tempDir(t), 'nope.yaml');
    const r = await runCli(['status', '--config', file]);
    assert.equal(r.code, 2, show(r));
    assertOneErrorLine(r, new RegExp(`^kexec-ts: ${escape(file)}: config file not found$`));
  });

  test('--backend sim overrides `backend: native` (whose library does not exist)', async (t) => {
    const dir = tempDir(t);
    const cfg = join(dir, 'native.yaml');
    const map = join(dir, 'map.json');
    writeFileSync(map, JSON.stringify({ranges: [{start: '0x100000', end: '0x8000000'}]}));
    writeFileSync(cfg, `backend: native\nnative:\n  library: ${join(dir, 'no-such-lib.so')}\nstateDir: ${join(dir, 'rec')}\nmemmap: ${map}\n`);
    const st = oneJson<StatusJSON>(expectExit(await runCli(['status', '--config', cfg, ...sim(join(dir, 's')), '--json']), 0));
    assert.equal(st.backend, 'sim');
    assert.equal(st.stateDir, join(dir, 's'));
    const text = expectExit(await runCli(['status', '--config', cfg, ...sim(join(dir, 's'))]), 0);
    assert.match(text.stdout, /^backend sim \(flag\)/);
    // Without the flag the config's backend applies and cannot bind the library: status and load both exit 5.
    const native = await runCli(['status', '--config', cfg]);
    assert.equal(native.code, 5, show(native));
    const image = writeSmallElf(dir);
    const load = await runCli(['load', '--config', cfg, image]);
    assert.equal(load.code, 5, show(load));
    // Refused when the backend is chosen, before any planning, with the reason the library cannot be bound.
    assertOneErrorLine(load, new RegExp(`^kexec-ts: backend native \\(config ${cfg}\\) cannot be used: backend native: cannot bind kexec_load and reboot \\(.*no-such-lib\\.so: `));
    expectExit(await runCli(['load', '--config', cfg, ...sim(join(dir, 's')), '--profile', 'amd64-4g', image]), 0, 'the same load on --backend sim');
  });

  test('--profile amd64-4g overrides `profile: arm64-virt-2g` for the plan and the sim machine', async (t) => {
    const dir = tempDir(t);
    const cfg = join(dir, 'arm.yaml');
    writeFileSync(cfg, 'backend: sim\nprofile: arm64-virt-2g\n');
    const image = writeSmallElf(dir);
    const fromConfig = await runCli(['load', '--config', cfg, '--state-dir', join(dir, 'a'), image]);
    assert.equal(fromConfig.code, 4, `without the flag the config's arm64 profile applies: ${show(fromConfig)}`);
    assertOneErrorLine(fromConfig, /an amd64 image \(EM_X86_64\) cannot boot on profile arm64-virt-2g, which is arm64/);
    const state = join(dir, 'b');
    const r = expectExit(await runCli(['load', '--config', cfg, '--state-dir', state, '--profile', 'amd64-4g', image, '--json']), 0, 'load --profile');
    const loaded = oneJson<LoadJSON>(r);
    assert.equal(loaded.plan.memoryMap.source, 'profile amd64-4g');
    assert.equal(loaded.staged?.arch, 'amd64');
    assert.match(r.stderr, /^✔ .*\bamd64\b/m, 'the backend step names the machine: amd64');
    assert.doesNotMatch(r.stderr, /\barm64\b/);
  });

  test('exec keeps the machine that --profile selected at load time', async (t) => {
    const dir = tempDir(t);
    const cfg = join(dir, 'arm.yaml');
    writeFileSync(cfg, 'backend: sim\nprofile: arm64-virt-2g\n');
    const state = join(dir, 's');
    expectExit(await runCli(['load', '--config', cfg, '--state-dir', state, '--profile', 'amd64-4g', writeSmallElf(dir)]), 0);
    const boot = oneJson<BootJSON>(expectExit(await runCli(['exec', '--yes', '--config', cfg, '--state-dir', state, '--json']), 0, 'exec'));
    assert.match(boot.lines[0] ?? '', /arch amd64/);
  });

  test('a config found by searching from the working directory applies (stateDir relative to the file)', async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, '.kexec-tsrc.yaml'), 'backend: sim\nstateDir: ./state\n');
    const st = oneJson<StatusJSON>(expectExit(await runCli(['status', '--json'], {cwd: dir}), 0));
    assert.deepEqual([st.backend, st.stateDir], ['sim', join(dir, 'state')]);
  });

  test('init writes the template, refuses to overwrite it (exit 2) unless --force; the template is a valid config', async (t) => {
    const dir = tempDir(t);
    const target = join(dir, 'etc');
    const first = oneJson<{written: string[]}>(expectExit(await runCli(['init', '--dir', target, '--json']), 0, 'init'));
    const file = join(target, '.kexec-tsrc.yaml');
    assert.deepEqual(first.written, [file]);
    assert.equal(readFileSync(file, 'utf8'), readFileSync(TEMPLATE, 'utf8'));
    expectExit(await runCli(['status', '--config', file, ...sim(join(dir, 's'))]), 0, 'the commented template is a valid config');

    writeFileSync(file, 'backend: sim\n');
    const again = await runCli(['init', '--dir', target]);
    assert.equal(again.code, 2, show(again));
    assertOneErrorLine(again, new RegExp(`^kexec-ts: ${escape(file)}: already exists; not overwriting$`));
    assert.match(again.stderr, /^ {2}hint: pass --force/m);
    assert.equal(readFileSync(file, 'utf8'), 'backend: sim\n', 'the existing file is untouched');
    const forced = expectExit(await runCli(['init', '--dir', target, '--force']), 0, 'init --force');
    assert.equal(forced.stdout, `wrote ${file}\n`);
    assert.equal(readFileSync(file, 'utf8'), readFileSync(TEMPLATE, 'utf8'));
  });

  test('init --script writes the upgrade script, executable and valid sh', async (t) => {
    const dir = tempDir(t);
    const r = expectExit(await runCli(['init', '--dir', dir, '--script']), 0, 'init --script');
    const script = join(dir, 'freebsd-update-kexec.sh');
    assert.equal(r.stdout, `wrote ${join(dir, '.kexec-tsrc.yaml')}\nwrote ${script}\n`);
    const text = readFileSync(script, 'utf8');
    assert.equal(text, readFileSync(SCRIPT, 'utf8'));
    assert.match(text, /^#!\/bin\/sh\n/);
    assert.notEqual(statSync(script).mode & 0o111, 0, 'the script is executable');
    const sh = spawnSync('sh', ['-n', script], {encoding: 'utf8'});
    if (sh.error === undefined) assert.equal(sh.status, 0, `sh -n: ${sh.stderr}`);
    const again = await runCli(['init', '--dir', dir, '--script']);
    assert.equal(again.code, 2, show(again));
    assert.match(again.stderr, /already exist; not overwriting/, 'both existing files are named');
  });

  test('the upgrade script names the flag that installs it', () => {
    const text = readFileSync(SCRIPT, 'utf8');
    const named = /kexec-ts init (--[\w-]+)/.exec(text)?.[1];
    assert.equal(named, '--script');
  });
});
