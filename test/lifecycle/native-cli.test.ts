/**
 * The native backend through the CLI, with every setting from a YAML config file (--config): the library is the
 * gcc-built mock of kexec_load/reboot from test/native/mock-lib.ts (it logs its arguments and each segment's bytes,
 * and fails with $KEXEC_MOCK_ERRNO), RB_KEXEC comes from a test reboot.h, the memory map from a JSON map file and
 * the record from a temp state directory. What reaches kexec_load must be, byte for byte, what `plan --export`
 * writes for the same image and map, sorted by mem. The real system calls are never reached.
 */
import {before, after, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {constants, tmpdir} from 'node:os';
import {join} from 'node:path';
import {segmentFileName} from '../../src/backend/staging/segment-files.js';
import {buildMock, haveGcc, readMockLog} from '../native/mock-lib.js';
import {
  CLI_SKIP, assertOneErrorLine, expectExit, jsonError, oneJson, runCli, show, tempDir, writeSmallElf,
  type LoadJSON, type PlanJSONOut, type StatusJSON,
} from '../helpers/lifecycle-cli.js';

function koffiInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('koffi');
    return true;
  } catch {
    return false;
  }
}

const MACHINE: Record<string, number> = {x64: 62, arm64: 183};
const skip = CLI_SKIP
  || (haveGcc() ? false : 'gcc not found (needed to build the mock libc)')
  || (koffiInstalled() ? false : 'koffi (optional dependency) is not installed')
  || (MACHINE[process.arch] === undefined ? `no kexec on ${process.arch}` : false);
const { EPERM = 1, EBUSY = 16 } = constants.errno;

let shared = '';
let lib = '';
let header = '';
let map = '';

interface Setup {
  readonly dir: string;
  readonly cfg: string;
  readonly state: string;
  readonly log: string;
  readonly image: string;
  /** Environment for one CLI run: the mock's log, and its errno when given. */
  env(errno?: number): Record<string, string>;
}

function setup(t: {after: (fn: () => void) => void}): Setup {
  const dir = tempDir(t, 'kexec-life-native-');
  const state = join(dir, 'state');
  const cfg = join(dir, 'kexec-ts.yaml');
  writeFileSync(cfg, [
    '# native backend against the mock library',
    'backend: native',
    'native:',
    `  library: ${lib}`,
    `  rebootHeader: ${header}`,
    `stateDir: ${state}`,
    `memmap: ${map}`,
    '',
  ].join('\n'));
  const log = join(dir, 'mock.log');
  return {
    dir, cfg, state, log, image: writeSmallElf(dir, 'img.elf', 3, MACHINE[process.arch]),
    env: (errno) => ({KEXEC_MOCK_LOG: log, ...(errno === undefined ? {} : {KEXEC_MOCK_ERRNO: String(errno)})}),
  };
}

describe('native backend through the CLI, against the mock library', {skip}, () => {
  before(() => {
    shared = mkdtempSync(join(tmpdir(), 'kexec-life-mock-'));
    lib = buildMock(shared);
    header = join(shared, 'reboot.h');
    writeFileSync(header, '/* test reboot.h */\n#define RB_POWERCYCLE 0x400000\n#define RB_KEXEC 0x1000000 /* boot a staged kernel */\n');
    map = join(shared, 'map.json');
    writeFileSync(map, JSON.stringify({ranges: [{start: '0x100000', end: '0x8000000', type: 'ram'}]}));
  });
  after(() => rmSync(shared, {recursive: true, force: true}));

  test('load hands kexec_load exactly the exported plan, sorted by mem; status shows the record', async (t) => {
    const s = setup(t);
    const exp = join(s.dir, 'export');
    mkdirSync(exp);
    const planned = oneJson<PlanJSONOut>(expectExit(await runCli(['plan', '--memmap', map, '--export', exp, s.image, '--json']), 0, 'plan --export'));
    const loaded = oneJson<LoadJSON>(expectExit(await runCli(['load', '--config', s.cfg, s.image, '--json'], {env: s.env()}), 0, 'load'));
    assert.equal(loaded.backend, 'native');
    assert.equal(loaded.plan.digest, planned.digest, 'load planned what plan planned');

    const {loads, reboots} = readMockLog(s.log);
    assert.deepEqual(reboots, []);
    assert.equal(loads.length, 1, 'one kexec_load call');
    const call = loads[0];
    assert.ok(call !== undefined);
    assert.equal(call.entry, BigInt(planned.entry));
    assert.equal(call.nseg, planned.segments.length);
    assert.equal(call.nseg, 2);
    assert.equal(call.flags, 0);
    assert.equal(call.segsNull, false);
    const mems = call.segments.map((g) => g.mem);
    assert.deepEqual(mems, [...mems].sort((a, b) => (a < b ? -1 : 1)), 'segments sorted by mem');
    call.segments.forEach((got, i) => {
      const want = planned.segments[i];
      assert.ok(want !== undefined);
      assert.deepEqual([got.bufsz, got.mem, got.memsz], [BigInt(want.bufsz), BigInt(want.mem), BigInt(want.memsz)], `segment ${i}`);
      const bytes = readFileSync(`${s.log}.seg${i}`);
      const exported = readFileSync(join(exp, segmentFileName(i)));
      assert.equal(bytes.length, Number(BigInt(want.bufsz)));
      assert.ok(bytes.equals(exported), `segment ${i}: kexec_load's bytes equal ${segmentFileName(i)}`);
      const sha = createHash('sha256').update(bytes).update(new Uint8Array(Number(BigInt(want.memsz) - BigInt(want.bufsz))));
      assert.equal(sha.digest('hex'), want.sha256, `segment ${i}: the planned SHA-256`);
    });

    const st = oneJson<StatusJSON>(expectExit(await runCli(['status', '--config', s.cfg, '--json']), 0, 'status'));
    assert.equal(st.backend, 'native');
    assert.equal(st.stateDir, s.state);
    assert.equal(st.booted, null);
    assert.ok(st.staged !== null);
    assert.deepEqual(
      [st.staged.backend, st.staged.digest, st.staged.entry, st.staged.segments, st.staged.files],
      ['native', planned.digest, planned.entry, 2, [s.image]],
    );
    const text = expectExit(await runCli(['status', '--config', s.cfg]), 0);
    assert.ok(text.stdout.startsWith(`backend native (config ${s.cfg}), state in ${s.state}\n`), show(text));
  });

  test('exec --yes --now calls reboot(RB_KEXEC from the header); the mock returns, so exec exits 5 (reboot-returned)', async (t) => {
    const s = setup(t);
    expectExit(await runCli(['load', '--config', s.cfg, s.image], {env: s.env()}), 0, 'load');
    rmSync(s.log);
    if (process.platform !== 'freebsd') {
      const clean = jsonError(await runCli(['exec', '--config', s.cfg, '--yes', '--json'], {env: s.env()}), 5);
      assert.equal(clean.reason, 'clean-exec-not-freebsd', 'the real shutdown (kill -1) never runs off FreeBSD');
      assert.deepEqual(readMockLog(s.log), {loads: [], reboots: []});
    }
    const r = await runCli(['exec', '--config', s.cfg, '--yes', '--now', '--json'], {env: s.env()});
    const err = jsonError(r, 5);
    assert.equal(err.reason, 'reboot-returned');
    assert.match(err.message, /^backend native: reboot\(howto=0x1000000\) returned 0 instead of rebooting$/);
    assert.deepEqual(readMockLog(s.log), {loads: [], reboots: [0x1000000]}, 'reboot got RB_KEXEC, nothing else was called');
    const st = oneJson<StatusJSON>(await runCli(['status', '--config', s.cfg, '--json']));
    assert.notEqual(st.staged, null, 'the record is kept when reboot returns');
    const text = await runCli(['exec', '--config', s.cfg, '-y', '--now'], {env: s.env()});
    assert.equal(text.code, 5, show(text));
    assertOneErrorLine(text, /reboot\(howto=0x1000000\) returned 0/);
  });

  test('exec without --yes and without a terminal exits 2 and never calls reboot', async (t) => {
    const s = setup(t);
    expectExit(await runCli(['load', '--config', s.cfg, s.image], {env: s.env()}), 0, 'load');
    rmSync(s.log);
    const r = await runCli(['exec', '--config', s.cfg], {env: s.env()});
    assert.equal(r.code, 2, show(r));
    assertOneErrorLine(r, /^kexec-ts: exec on the native backend would boot .*img\.elf: give --yes when not running on a terminal$/);
    assert.equal(jsonError(await runCli(['exec', '--config', s.cfg, '--json'], {env: s.env()}), 2).reason, 'confirm-needed');
    assert.deepEqual(readMockLog(s.log), {loads: [], reboots: []});
  });

  test('exec with nothing recorded exits 7 without reboot; --force calls reboot anyway', async (t) => {
    const s = setup(t);
    const r = await runCli(['exec', '--config', s.cfg, '--yes'], {env: s.env()});
    assert.equal(r.code, 7, show(r));
    assertOneErrorLine(r, /nothing is recorded as staged in /);
    assert.deepEqual(readMockLog(s.log).reboots, []);
    jsonError(await runCli(['exec', '--config', s.cfg, '--yes', '--now', '--force', '--json'], {env: s.env()}), 5);
    assert.deepEqual(readMockLog(s.log).reboots, [0x1000000]);
  });

  test('kexec_load failing with EPERM exits 5 with the documented message; EBUSY exits 6; nothing is recorded', async (t) => {
    const s = setup(t);
    const call = /kexec_load\(entry=0x200010, nseg=2, flags=0\)/.source;
    const perm = await runCli(['load', '--config', s.cfg, s.image], {env: s.env(EPERM)});
    assert.equal(perm.code, 5, show(perm));
    assertOneErrorLine(perm, new RegExp(`^kexec-ts: backend native: ${call} failed with EPERM \\(errno ${EPERM}\\): not root, or securelevel > 0 \\(kexec_load needs PRIV_REBOOT and securelevel <= 0\\)$`));
    assert.match(perm.stderr, /^ {2}hint: .*kern\.securelevel/m);
    const permJson = jsonError(await runCli(['load', '--config', s.cfg, s.image, '--json'], {env: s.env(EPERM)}), 5);
    assert.equal(permJson.reason, 'EPERM');
    assert.equal(permJson.details?.errno, EPERM);

    const busy = await runCli(['load', '--config', s.cfg, s.image], {env: s.env(EBUSY)});
    assert.equal(busy.code, 6, show(busy));
    assertOneErrorLine(busy, new RegExp(`^kexec-ts: backend native: ${call} failed with EBUSY \\(errno ${EBUSY}\\): another kexec_load is in progress$`));
    assert.equal(jsonError(await runCli(['load', '--config', s.cfg, s.image, '--json'], {env: s.env(EBUSY)}), 6).reason, 'EBUSY');

    assert.equal(readMockLog(s.log).loads.length, 4, 'the kernel (mock) was asked every time');
    assert.equal(oneJson<StatusJSON>(await runCli(['status', '--config', s.cfg, '--json'])).staged, null, 'a refused load records nothing');
  });

  test('unload calls kexec_load with zero segments and clears the record', async (t) => {
    const s = setup(t);
    expectExit(await runCli(['load', '--config', s.cfg, s.image], {env: s.env()}), 0, 'load');
    rmSync(s.log);
    const r = expectExit(await runCli(['unload', '--config', s.cfg], {env: s.env()}), 0, 'unload');
    assert.match(r.stdout, /^unloaded .*img\.elf \([0-9a-f]{16}…\) from the native backend$/m);
    assert.deepEqual(readMockLog(s.log), {loads: [{entry: 0n, nseg: 0, flags: 0, segsNull: true, segments: []}], reboots: []});
    assert.equal(oneJson<StatusJSON>(await runCli(['status', '--config', s.cfg, '--json'])).staged, null);
  });
});
