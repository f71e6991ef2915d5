/**
 * The clean exec (src/backend/native/clean-exec.ts) through the native backend, against stubs only: logger, utx,
 * sync, sysctl and rc.shutdown are shell scripts in a temp dir that append their argv to one call log; kill(2) and
 * sleep are recorded into the same log instead of being done; reboot(2) and kexec_load are the gcc-built mock
 * library (test/native/mock-lib.ts). Checked: the order of the steps against init.c/reboot.c, the timeouts
 * (kern.init_shutdown_timeout, init's 120 s default, the SIGTERM of a script that outlives it), the syslog line,
 * the utmpx record when there is no rc.shutdown, init's restart when reboot fails, and that --now skips them all.
 */
import {after, before, describe, it} from 'node:test';
import assert from 'node:assert/strict';
import {appendFileSync, chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {NativeBackend, hostArch} from '../../src/backend/native/native-backend.js';
import {SYSTEM_OPS} from '../../src/backend/native/system-ops.js';
import type {ShutdownPaths, SystemOps} from '../../src/backend/native/clean-exec.js';
import {KexecError} from '../../src/errors.js';
import type {Image} from '../../src/image/types.js';
import {parseMemoryMapText} from '../../src/memory/map-file.js';
import {plan} from '../../src/plan/planner.js';
import {buildMock, haveGcc, readMockLog} from '../native/mock-lib.js';
import {IN_PROCESS_SKIP, cli} from '../helpers/cli.js';
import {writeSmallElf} from '../helpers/lifecycle-cli.js';

const skip = haveGcc() ? false : 'gcc not found (needed to build the mock libc)';
let dir = '';
let lib = '';
let n = 0;

interface Bench {
  readonly calls: string;
  readonly mockLog: string;
  readonly paths: ShutdownPaths;
  readonly said: string[];
  readonly backend: NativeBackend;
  /** The call log, one entry a line. */
  log(): string[];
}

/** A stub program: logs `name args...` and exits with `status` (after `sleepSeconds`, for a slow rc.shutdown). */
function stub(path: string, calls: string, name: string, opts: {stdout?: string; status?: number; sleepSeconds?: number} = {}): string {
  const lines = ['#!/bin/sh', `echo "${name} $*" >> '${calls}'`];
  if (opts.sleepSeconds !== undefined) lines.push(`trap 'kill $!; echo "${name} got SIGTERM" >> '"'"'${calls}'"'"'; exit 143' TERM`, `sleep ${opts.sleepSeconds} & wait`);
  if (opts.stdout !== undefined) lines.push(`echo '${opts.stdout}'`);
  lines.push(`exit ${opts.status ?? 0}`);
  writeFileSync(path, `${lines.join('\n')}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Stub commands and a recording SystemOps: the real command runner, but kill(2) and sleep only logged. */
async function bench(o: {timeout?: string; rc?: 'ok' | 'absent' | 'slow' | 'fails'; pageins?: string[]; killEsrchAfter?: number} = {}): Promise<Bench> {
  const d = join(dir, `b${++n}`);
  const calls = join(d, 'calls.log');
  const mockLog = join(d, 'mock.log');
  rmSync(d, {recursive: true, force: true});
  (await import('node:fs')).mkdirSync(d);
  writeFileSync(calls, '');
  // sysctl: kern.init_shutdown_timeout as given (exit 1 when unset, as for an unknown OID); v_swappgsin in turn.
  const pageinsFile = join(d, 'pageins');
  writeFileSync(pageinsFile, (o.pageins ?? ['7']).join('\n'));
  const sysctl = join(d, 'sysctl');
  writeFileSync(sysctl, [
    '#!/bin/sh', `echo "sysctl $*" >> '${calls}'`,
    'case "$2" in',
    `kern.init_shutdown_timeout) ${o.timeout === undefined ? 'exit 1' : `echo ${o.timeout}`} ;;`,
    `vm.stats.vm.v_swappgsin) head -n 1 '${pageinsFile}'; [ "$(wc -l < '${pageinsFile}')" -gt 0 ] && sed -i 1d '${pageinsFile}' ;;`,
    'esac', '',
  ].join('\n'));
  chmodSync(sysctl, 0o755);
  const rcPath = join(d, 'rc.shutdown');
  const rc = o.rc ?? 'ok';
  if (rc !== 'absent') stub(rcPath, calls, 'rc.shutdown', rc === 'slow' ? {sleepSeconds: 30} : rc === 'fails' ? {status: 3} : {});
  const paths: ShutdownPaths = {
    logger: stub(join(d, 'logger'), calls, 'logger'), utx: stub(join(d, 'utx'), calls, 'utx'), sync: stub(join(d, 'sync'), calls, 'sync'),
    sysctl, rcShutdown: rcPath,
  };
  const said: string[] = [];
  let kills = 0;
  const ops: SystemOps = {
    run: SYSTEM_OPS.run,
    exists: SYSTEM_OPS.exists,
    signal: (pid, sig) => {
      appendFileSync(calls, `kill ${pid} ${sig}\n`);
      if (pid === -1 && sig === 'SIGKILL' && ++kills > (o.killEsrchAfter ?? 1)) return 'ESRCH';
      return 'ok';
    },
    sleep: async (ms) => void appendFileSync(calls, `sleep ${ms}\n`),
    holdSignals: () => void appendFileSync(calls, 'hold-signals\n'),
    say: (line) => void said.push(line),
  };
  const memoryMap = parseMemoryMapText(JSON.stringify({ranges: [{start: '0x100000', end: '0x8000000', type: 'ram'}]}), 'map.json');
  const backend = new NativeBackend({library: lib, rbKexec: 0x1000000, memoryMap, recordDir: join(d, 'records'), shutdownPaths: paths, systemOps: ops});
  process.env.KEXEC_MOCK_LOG = mockLog;
  const image: Image = {kind: 'elf', arch: hostArch(), machine: 62, files: ['/boot/kernel.new/kernel', '/boot/kernel.new/if_em.ko'], fixed: [{label: 'k', mem: 0x200000n, data: new Uint8Array(64).fill(1), memsz: 0x1000n}], entry: 0x200000n};
  await backend.load(plan(image, memoryMap, {pageSize: 0x1000n}));
  rmSync(mockLog);
  return {calls, mockLog, paths, said, backend, log: () => readFileSync(calls, 'utf8').split('\n').filter((l) => l !== '')};
}

async function execRejects(b: Bench, now = false): Promise<KexecError> {
  let caught: unknown;
  await b.backend.exec({now}).then(() => assert.fail('exec returned'), (e: unknown) => void (caught = e));
  assert.ok(caught instanceof KexecError, String(caught));
  return caught;
}

describe('clean exec: the FreeBSD shutdown, then reboot(RB_KEXEC)', {skip}, () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kexec-clean-'));
    lib = buildMock(dir);
  });
  after(() => {
    delete process.env.KEXEC_MOCK_LOG;
    rmSync(dir, {recursive: true, force: true});
  });

  it('runs the steps in init/reboot(8) order with the sysctl timeout, then reboots with the recorded RB_KEXEC', async () => {
    const b = await bench({timeout: '45', pageins: ['7', '9', '9']});
    const e = await execRejects(b);
    assert.equal(e.reason, 'reboot-returned', 'the mock reboot returns, which is reported');
    const log = b.log();
    assert.match(log[0] ?? '', /^logger -p auth\.crit -t kexec-ts -- kexec reboot by \S+: \/boot\/kernel\.new\/kernel with \/boot\/kernel\.new\/if_em\.ko \(plan [0-9a-f]{16}\)$/);
    assert.deepEqual(log.slice(1), [
      'hold-signals',
      'kill 1 SIGTSTP',
      'sysctl -n kern.init_shutdown_timeout',
      'rc.shutdown reboot',
      'sync ',
      'kill -1 SIGTERM',
      'sleep 2000',
      'sysctl -n vm.stats.vm.v_swappgsin',
      'sync ', 'sleep 3000', 'sysctl -n vm.stats.vm.v_swappgsin',
      'sync ', 'sleep 3000', 'sysctl -n vm.stats.vm.v_swappgsin',
      'kill -1 SIGKILL', 'sleep 2000', 'kill -1 SIGKILL',
      'kill 1 SIGHUP',
    ]);
    assert.ok(b.said.includes('running ' + b.paths.rcShutdown + ' reboot (at most 45 s)'), b.said.join('\n'));
    assert.deepEqual(readMockLog(b.mockLog), {loads: [], reboots: [0x1000000]}, 'reboot(2) once, with the value recorded at load');
  });

  it('init\'s 120 s default when kern.init_shutdown_timeout is unreadable or below 2; a script past it gets SIGTERM', async () => {
    for (const timeout of [undefined, '1', 'x']) {
      const b = await bench(timeout === undefined ? {} : {timeout});
      const steps = await b.backend.describeExec({});
      assert.ok(steps.includes(`rc-shutdown: ${b.paths.rcShutdown} reboot, at most 120 s (init's default (DEATH_SCRIPT)), then SIGTERM to it`), steps.join('\n'));
    }
    const slow = await bench({timeout: '2', rc: 'slow'});
    await execRejects(slow);
    const log = slow.log();
    assert.ok(log.includes('rc.shutdown got SIGTERM'), `rc.shutdown was cut off by SIGTERM, not waited for: ${log.join('\n')}`);
    assert.ok(log.indexOf('kill -1 SIGTERM') > log.indexOf('rc.shutdown got SIGTERM'), 'the shutdown went on after the timeout');
    assert.ok(slow.said.some((l) => /did not finish in 2 s; sent SIGTERM and going on/.test(l)));
  });

  it('no rc.shutdown: skipped as init does, and the utmpx shutdown record is written by utx; a failing script is reported and passed', async () => {
    const b = await bench({rc: 'absent'});
    await execRejects(b);
    const log = b.log();
    assert.ok(!log.some((l) => l.startsWith('rc.shutdown')));
    assert.ok(log.indexOf('utx shutdown') > log.indexOf('kill 1 SIGTSTP') && log.indexOf('utx shutdown') < log.indexOf('kill -1 SIGTERM'), log.join('\n'));
    const failing = await bench({rc: 'fails'});
    await execRejects(failing);
    assert.ok(failing.said.some((l) => /rc\.shutdown returned status 3; going on, as init does/.test(l)));
    assert.ok(failing.log().includes('kill -1 SIGKILL'));
  });

  it('SIGKILL is repeated at most 6 times with growing sleeps, then a warning', async () => {
    const b = await bench({killEsrchAfter: 99});
    await execRejects(b);
    const kills = b.log().filter((l) => l === 'kill -1 SIGKILL' || /^sleep (4|6|8|10)000$/.test(l));
    assert.deepEqual(kills, ['kill -1 SIGKILL', 'kill -1 SIGKILL', 'sleep 4000', 'kill -1 SIGKILL', 'sleep 6000', 'kill -1 SIGKILL', 'sleep 8000', 'kill -1 SIGKILL', 'sleep 10000', 'kill -1 SIGKILL']);
    assert.ok(b.said.includes('warning: some processes would not die; ps axl advised'));
  });

  it('--now skips every shutdown step: only reboot(RB_KEXEC)', async () => {
    const b = await bench();
    const e = await execRejects(b, true);
    assert.equal(e.reason, 'reboot-returned');
    assert.deepEqual(b.log(), [], 'no logger, no signals, no rc.shutdown, no sync');
    assert.deepEqual(readMockLog(b.mockLog).reboots, [0x1000000]);
    assert.deepEqual(await b.backend.describeExec({now: true}), ['reboot(0x1000000) now: no rc.shutdown, processes are not terminated first (the kernel still syncs the disks)']);
  });

  it('--dry-run lists every step and runs none of them', async () => {
    const b = await bench({timeout: '30'});
    const steps = await b.backend.describeExec({});
    assert.deepEqual(steps.map((s) => s.split(':')[0]), ['syslog', 'hold-signals', 'stop-logins', 'rc-shutdown', 'utmpx', 'sync', 'terminate', 'kill', 'reboot']);
    assert.deepEqual(b.log(), ['sysctl -n kern.init_shutdown_timeout'], 'only the timeout was read');
    assert.equal(existsSync(b.mockLog), false, 'reboot was not called');
  });

  it('through the CLI: exec --dry-run prints every step and calls nothing; --dry-run --now prints the bare reboot', {skip: IN_PROCESS_SKIP}, async () => {
    const d = join(dir, 'cli');
    (await import('node:fs')).mkdirSync(d);
    const map = join(d, 'map.json');
    writeFileSync(map, JSON.stringify({ranges: [{start: '0x100000', end: '0x8000000', type: 'ram'}]}));
    const cfg = join(d, 'kexec-ts.yaml');
    writeFileSync(cfg, ['backend: native', 'native:', `  library: ${lib}`, '  rbKexec: 0x1000000', `stateDir: ${join(d, 'records')}`, `memmap: ${map}`, ''].join('\n'));
    const mockLog = join(d, 'mock.log');
    const image = writeSmallElf(d, 'img.elf', 3, process.arch === 'arm64' ? 183 : 62);
    const load = await cli(['load', '--config', cfg, image], {env: {KEXEC_MOCK_LOG: mockLog}});
    assert.equal(load.code, 0, load.stderr);
    rmSync(mockLog);
    const dry = await cli(['exec', '--config', cfg, '--dry-run'], {env: {KEXEC_MOCK_LOG: mockLog}});
    assert.equal(dry.code, 0, dry.stderr);
    const lines = dry.stdout.trim().split('\n');
    assert.equal(lines[0], `dry run: exec on the native backend would boot ${image}`);
    assert.deepEqual(lines.slice(1, -1).map((l) => /^ {2}(\d)\. ([\w-]+):/.exec(l)?.slice(1, 3).join(' ')),
      ['1 syslog', '2 hold-signals', '3 stop-logins', '4 rc-shutdown', '5 utmpx', '6 sync', '7 terminate', '8 kill', '9 reboot']);
    assert.equal(lines.at(-1), 'nothing was done');
    const now = await cli(['exec', '--config', cfg, '--dry-run', '--now', '--json'], {env: {KEXEC_MOCK_LOG: mockLog}});
    assert.equal(now.code, 0, now.stderr);
    assert.deepEqual((JSON.parse(now.stdout) as {steps: string[]}).steps, ['reboot(0x1000000) now: no rc.shutdown, processes are not terminated first (the kernel still syncs the disks)']);
    assert.equal(existsSync(mockLog), false, 'neither kexec_load nor reboot was called');
  });
});
