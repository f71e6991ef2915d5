/**
 * Never a silent fallback (issue 10): a native backend that cannot be used fails every backend command with exit 5
 * and the reason, whether it was asked for (--backend native with an unusable library) or is the default because
 * the system reports FreeBSD (the KEXEC_TS_PLATFORM test hook). The simulated machine's state directory stays
 * untouched: nothing was quietly staged there instead. Also the backend choice's ordinary mistake: a state directory
 * that is a file is exit 2 naming it, not an internal error.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {IN_PROCESS_SKIP, cli} from '../helpers/cli.js';
import {tempDir, writeSmallElf} from '../helpers/lifecycle-cli.js';

const COMMANDS: readonly (readonly string[])[] = [['status'], ['status', '--check'], ['unload'], ['exec', '--yes'], ['exec', '--dry-run'], ['load', 'IMAGE'], ['load', '--dry-run', 'IMAGE']];

function setup(t: {after: (fn: () => void) => void}, lines: string[]): {cfg: string; state: string; image: string} {
  const dir = tempDir(t, 'kexec-nofallback-');
  const state = join(dir, 'state');
  const cfg = join(dir, 'kexec-ts.yaml');
  writeFileSync(cfg, [`stateDir: ${state}`, `memmap: ${join(dir, 'map.json')}`, ...lines, ''].join('\n'));
  writeFileSync(join(dir, 'map.json'), JSON.stringify({ranges: [{start: '0x100000', end: '0x8000000', type: 'ram'}]}));
  return {cfg, state, image: writeSmallElf(dir, 'img.elf', 3)};
}

function args(cmd: readonly string[], image: string, cfg: string, extra: readonly string[] = []): string[] {
  return [...cmd.map((a) => (a === 'IMAGE' ? image : a)), '--config', cfg, ...extra];
}

describe('no silent fallback to the simulated machine', {skip: IN_PROCESS_SKIP}, () => {
  test('--backend native with an unusable library: every command exits 5 naming the library', async (t) => {
    const s = setup(t, ['native:', '  library: /nonexistent/libkexec-nope.so.7', '  rbKexec: 0x1000000']);
    for (const cmd of COMMANDS) {
      const r = await cli(args(cmd, s.image, s.cfg, ['--backend', 'native']));
      assert.equal(r.code, 5, `${cmd.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^kexec-ts: backend native \(flag\) cannot be used: .*\/nonexistent\/libkexec-nope\.so\.7/m, cmd.join(' '));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      const json = await cli(args(cmd, s.image, s.cfg, ['--backend', 'native', '--json']));
      assert.equal(json.code, 5);
      const err = (JSON.parse(json.stdout) as {error: {code: number; reason: string}}).error;
      assert.deepEqual([err.code, err.reason], [5, 'backend-unavailable'], cmd.join(' '));
    }
    assert.equal(existsSync(s.state), false, 'the simulated machine was never created');
  });

  test('a system that reports FreeBSD, nothing forced: native is the default and its failure is exit 5, not sim', async (t) => {
    const s = setup(t, []);
    for (const cmd of COMMANDS) {
      const r = await cli(args(cmd, s.image, s.cfg), {env: {KEXEC_TS_PLATFORM: 'freebsd'}});
      assert.equal(r.code, 5, `${cmd.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /backend native \(the default on FreeBSD\) cannot be used: backend native: this is \w+, not FreeBSD/, cmd.join(' '));
      assert.doesNotMatch(r.stdout + r.stderr, /on the sim backend|backend sim \(|boot report/, `${cmd.join(' ')}: the simulator was not used`);
    }
    assert.equal(existsSync(s.state) ? readdirSync(s.state).length : 0, 0, 'nothing staged on the simulated machine');
  });

  test('the same system with --backend sim given: the simulated machine is used, as asked', async (t) => {
    const s = setup(t, []);
    const r = await cli(['load', '--config', s.cfg, '--backend', 'sim', s.image], {env: {KEXEC_TS_PLATFORM: 'freebsd'}});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /staged .* on the sim backend/);
  });

  test('a state directory that is a file: exit 2 naming it, for sim and qemu alike, never an internal error', async (t) => {
    const s = setup(t, []);
    for (const backend of ['sim', 'qemu']) {
      for (const cmd of [['status'], ['unload'], ['load', s.image], ['exec', '--yes']]) {
        const r = await cli([...cmd, '--backend', backend, '--state-dir', s.image]);
        assert.equal(r.code, 2, `${backend} ${cmd.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^kexec-ts: state directory ${s.image.replace(/[.]/g, '\\.')} is not a directory$`, 'm'));
      }
    }
  });
});
