/**
 * The shell side of issue 10, run against stub commands on PATH (never the real freebsd-update, pkg, bectl,
 * shutdown or kexec-ts): each stub appends its argv to one call log, so the tests check the order of calls and the
 * fallbacks. freebsd-update-kexec.sh: nothing to install, the kernel stage of a two-stage upgrade and its finish
 * at boot, staging failure -> normal reboot, --dry-run. pkgbase-kexec.sh: the boot-environment flow and a failed
 * upgrade. rc.final-hook.sh: fires only when enabled and armed in this boot. rc.d/kexec_ts: its commands, over a
 * stand-in rc.subr. All of them pass shellcheck.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {PROJECT_ROOT} from '../helpers/corpus.js';
import {tempDir} from '../helpers/lifecycle-cli.js';

const TEMPLATES = join(PROJECT_ROOT, 'templates');
const FREEBSD_UPDATE = join(TEMPLATES, 'scripts/freebsd-update-kexec.sh');
const PKGBASE = join(TEMPLATES, 'scripts/pkgbase-kexec.sh');
const RC_FINAL = join(TEMPLATES, 'rc.final-hook.sh');
const RC_D = join(TEMPLATES, 'rc.d/kexec_ts');
const SHELLCHECK_SKIP = spawnSync('shellcheck', ['--version'], {stdio: 'ignore'}).status === 0 ? false : 'shellcheck is not installed';

/** Stub bodies: `$@` is the stub's argv; every stub logs `name args` first. */
const DEFAULT_STUBS: Record<string, string> = {
  'id': 'echo 0',
  'logger': 'exit 0',
  'shutdown': 'exit 0',
  'sysctl': 'case "$2" in kern.bootfile) echo /boot/kernel/kernel ;; kern.boottime) echo "{ sec = 1700000000, usec = 5 }" ;; esac',
  'kenv': 'echo zfs:zroot/ROOT/default',
  'sysrc': 'echo "${STUB_FINAL_ENABLE:-NO}"',
  'freebsd-update': 'case "$1" in updatesready) exit "${STUB_READY:-0}" ;; install) printf "%s\\n" "${STUB_INSTALL_OUT:-Installing updates... done.}"; exit "${STUB_INSTALL_STATUS:-0}" ;; esac',
  'kexec-ts': 'case "$1" in load) exit "${STUB_LOAD_STATUS:-0}" ;; exec) exit "${STUB_EXEC_STATUS:-5}" ;; status) exit "${STUB_STATUS:-0}" ;; esac',
  'bectl': 'exit 0',
  'pkg': 'exit "${STUB_PKG_STATUS:-0}"',
};

interface Bench {
  readonly dir: string;
  readonly db: string;
  run(script: string, args?: readonly string[], env?: Record<string, string>): {status: number | null; stdout: string; stderr: string; calls: string[]};
}

function bench(t: {after: (fn: () => void) => void}): Bench {
  const dir = tempDir(t, 'kexec-scripts-');
  const bin = join(dir, 'bin');
  const db = join(dir, 'db');
  const tmp = join(dir, 'tmp');
  mkdirSync(bin);
  mkdirSync(tmp);
  const log = join(dir, 'calls.log');
  for (const [name, body] of Object.entries(DEFAULT_STUBS)) {
    writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >> '${log}'\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return {
    dir, db,
    run(script, args = [], env = {}) {
      writeFileSync(log, '');
      const r = spawnSync('sh', [script, ...args], {
        encoding: 'utf8',
        env: {PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`, TMPDIR: tmp, KEXEC_TS_DB: db, ...env},
      });
      const calls = readFileSync(log, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('logger ') && !l.startsWith('id ')).map((l) => l.split(tmp).join('TMP'));
      return {status: r.status, stdout: r.stdout, stderr: r.stderr, calls};
    },
  };
}

const TWO_STAGE = 'Kernel updates have been installed.  Please reboot and run\n"/usr/sbin/freebsd-update install" again to finish installing updates.';

describe('freebsd-update-kexec.sh', () => {
  test('usage errors exit 2 and run nothing', (t) => {
    const r = bench(t).run(FREEBSD_UPDATE, ['--bogus']);
    assert.deepEqual([r.status, r.calls], [2, []]);
  });

  test('nothing to install (updatesready exits 2): exit 0, nothing installed, staged or rebooted', (t) => {
    const r = bench(t).run(FREEBSD_UPDATE, [], {STUB_READY: '2'});
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls, ['freebsd-update updatesready']);
    assert.match(r.stderr, /no updates are available to install; nothing to do/);
  });

  test('kernel stage of a two-stage upgrade: marker, load kern.bootfile, clean exec; the rc.d one-shot finishes once', (t) => {
    const b = bench(t);
    const r = b.run(FREEBSD_UPDATE, [], {STUB_INSTALL_OUT: TWO_STAGE});
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls.filter((c) => !c.startsWith('sysctl')), ['freebsd-update updatesready', 'freebsd-update install', 'kexec-ts load /boot/kernel/kernel', 'kexec-ts exec --yes', 'shutdown -r now']);
    assert.match(r.stdout, /Kernel updates have been installed/, 'install output is shown as it runs');
    assert.equal(readFileSync(join(b.db, 'freebsd-update-pending'), 'utf8'), 'kernel=/boot/kernel/kernel\n');
    assert.match(r.stderr, /exec returned without rebooting; falling back to a normal reboot/);

    const finish = b.run(FREEBSD_UPDATE, ['--finish']);
    assert.equal(finish.status, 0, finish.stderr);
    assert.deepEqual(finish.calls.filter((c) => !c.startsWith('sysctl')), ['freebsd-update install']);
    assert.equal(existsSync(join(b.db, 'freebsd-update-pending')), false, 'one shot');
    assert.deepEqual(b.run(FREEBSD_UPDATE, ['--finish']).calls, [], 'nothing pending: nothing run');
  });

  test('patch-level install (one stage): no marker; --kernel names the kernel', (t) => {
    const b = bench(t);
    const r = b.run(FREEBSD_UPDATE, ['--kernel', '/boot/kernel.new/kernel']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls, ['freebsd-update updatesready', 'freebsd-update install', 'kexec-ts load /boot/kernel.new/kernel', 'kexec-ts exec --yes', 'shutdown -r now']);
    assert.equal(existsSync(join(b.db, 'freebsd-update-pending')), false);
  });

  test('staging fails: a normal shutdown -r now, and no exec', (t) => {
    const r = bench(t).run(FREEBSD_UPDATE, [], {STUB_LOAD_STATUS: '3'});
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls.filter((c) => !c.startsWith('sysctl')), ['freebsd-update updatesready', 'freebsd-update install', 'kexec-ts load /boot/kernel/kernel', 'shutdown -r now']);
    assert.match(r.stderr, /kexec-ts load failed \(status 3\); falling back to a normal reboot/);
  });

  test('install fails: stop, no staging, no reboot', (t) => {
    const r = bench(t).run(FREEBSD_UPDATE, [], {STUB_INSTALL_STATUS: '1'});
    assert.equal(r.status, 1);
    assert.deepEqual(r.calls.filter((c) => !c.startsWith('sysctl')), ['freebsd-update updatesready', 'freebsd-update install']);
  });

  test('--dry-run: updatesready and kexec-ts load --dry-run only, and says nothing was staged', (t) => {
    const r = bench(t).run(FREEBSD_UPDATE, ['--dry-run']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls, ['freebsd-update updatesready', 'sysctl -n kern.bootfile', 'kexec-ts load --dry-run /boot/kernel/kernel']);
    assert.match(r.stdout, /dry run: nothing was installed, staged or rebooted/);
  });
});

describe('pkgbase-kexec.sh', () => {
  test('boot-environment flow: create, mount, pkg -r, activate, load with root on the new BE, umount, exec, fallback', (t) => {
    const r = bench(t).run(PKGBASE, ['--be', 'up1']);
    assert.equal(r.status, 0, r.stderr);
    const mnt = /bectl mount up1 (\S+)/.exec(r.calls.join('\n'))?.[1] ?? 'no mount';
    assert.match(mnt, /^TMP\/pkgbase-kexec\.\w+$/);
    assert.deepEqual(r.calls, [
      'bectl check', 'kenv -q vfs.root.mountfrom', 'bectl create up1', `bectl mount up1 ${mnt}`, `pkg -r ${mnt} upgrade -y`, 'bectl activate up1',
      `kexec-ts load --root ${mnt} --env vfs.root.mountfrom=zfs:zroot/ROOT/up1`,
      'bectl umount up1', 'kexec-ts exec --yes', 'shutdown -r now',
    ]);
  });

  test('pkg upgrade fails: the BE is unmounted, not activated, and nothing reboots', (t) => {
    const r = bench(t).run(PKGBASE, ['--be', 'up2'], {STUB_PKG_STATUS: '1'});
    assert.equal(r.status, 1);
    assert.deepEqual(r.calls.filter((c) => !c.startsWith('pkg') && !c.startsWith('bectl mount')), ['bectl check', 'kenv -q vfs.root.mountfrom', 'bectl create up2', 'bectl umount up2']);
  });

  test('staging fails: umount, then a normal reboot into the activated BE', (t) => {
    const r = bench(t).run(PKGBASE, ['--be', 'up3'], {STUB_LOAD_STATUS: '4'});
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.calls.slice(-3).map((c) => c.split(' ').slice(0, 2).join(' ')), ['kexec-ts load', 'bectl umount', 'shutdown -r']);
    assert.ok(r.calls.includes('bectl activate up3'));
  });
});

describe('rc.final-hook.sh', () => {
  const BOOT = '{ sec = 1700000000, usec = 5 }';
  test('enabled and armed in this boot: one reboot(RB_KEXEC) via exec --now, and the arm is gone', (t) => {
    const b = bench(t);
    mkdirSync(b.db);
    writeFileSync(join(b.db, 'final-armed'), `${BOOT}\n`);
    const r = b.run(RC_FINAL, [], {STUB_FINAL_ENABLE: 'YES', KEXEC_TS: 'kexec-ts'});
    assert.equal(r.status, 0);
    assert.deepEqual(r.calls, ['sysrc -n kexec_ts_final_enable', 'sysctl -n kern.boottime', 'kexec-ts exec --now --yes']);
    assert.equal(existsSync(join(b.db, 'final-armed')), false);
  });

  test('not armed, not enabled, or armed in another boot: init\'s normal reboot (no exec)', (t) => {
    const b = bench(t);
    assert.deepEqual(b.run(RC_FINAL, [], {STUB_FINAL_ENABLE: 'YES'}).calls, [], 'not armed (a halt or a power-off)');
    mkdirSync(b.db);
    writeFileSync(join(b.db, 'final-armed'), `${BOOT}\n`);
    assert.deepEqual(b.run(RC_FINAL, [], {STUB_FINAL_ENABLE: 'NO'}).calls, ['sysrc -n kexec_ts_final_enable']);
    assert.equal(existsSync(join(b.db, 'final-armed')), false, 'disarmed anyway');
    writeFileSync(join(b.db, 'final-armed'), '{ sec = 1600000000, usec = 1 }\n');
    const stale = b.run(RC_FINAL, [], {STUB_FINAL_ENABLE: 'YES', KEXEC_TS: 'kexec-ts'});
    assert.ok(!stale.calls.some((c) => c.startsWith('kexec-ts')), stale.calls.join('\n'));
  });
});

/**
 * rc.d/kexec_ts with a minimal stand-in for /etc/rc.subr (load_rc_config reads the test's rc.conf values from the
 * environment; run_rc_command dispatches to NAME_cmd as rc.subr does): the commands' wiring, not rc.subr itself.
 */
const RC_SUBR_SHIM = [
  'load_rc_config() { :; }',
  'checkyesno() { eval "_v=\\${$1}"; case $_v in [Yy][Ee][Ss]) return 0 ;; *) return 1 ;; esac; }',
  'err() { _c=$1; shift; echo "$0: ERROR: $*" >&2; exit "$_c"; }',
  'run_rc_command() { eval "_cmd=\\${$1_cmd}"; eval "$_cmd"; }',
].join('\n');

describe('rc.d/kexec_ts', () => {
  function rcd(b: Bench): string {
    const shim = join(b.dir, 'rc.subr');
    writeFileSync(shim, `${RC_SUBR_SHIM}\n`);
    const script = join(b.dir, 'kexec_ts');
    writeFileSync(script, readFileSync(RC_D, 'utf8').replace('. /etc/rc.subr', `. '${shim}'`).split('/usr/local/bin/kexec-ts').join('kexec-ts')
      .split('/usr/local/libexec/kexec-ts').join(join(TEMPLATES, 'scripts')).split('/var/db/kexec-ts').join(b.db));
    return script;
  }

  test('load stages kern.bootfile with kexec_ts_flags; reboot is the clean exec; start finishes a pending upgrade', (t) => {
    const b = bench(t);
    const script = rcd(b);
    assert.deepEqual(b.run(script, ['load'], {kexec_ts_flags: '--config /usr/local/etc/kexec-ts.yaml'}).calls, ['sysctl -n kern.bootfile', 'kexec-ts load --config /usr/local/etc/kexec-ts.yaml /boot/kernel/kernel']);
    assert.deepEqual(b.run(script, ['load'], {kexec_ts_kernel: '/boot/kernel.new/kernel'}).calls, ['kexec-ts load /boot/kernel.new/kernel']);
    assert.deepEqual(b.run(script, ['reboot']).calls, ['kexec-ts exec --yes']);
    assert.deepEqual(b.run(script, ['start']).calls, [], 'nothing pending: start does nothing');
    mkdirSync(b.db);
    writeFileSync(join(b.db, 'freebsd-update-pending'), 'kernel=/boot/kernel/kernel\n');
    assert.deepEqual(b.run(script, ['start']).calls.filter((c) => !c.startsWith('sysctl')), ['freebsd-update install']);
  });

  test('shutdown: refused unless kexec_ts_final_enable; armed with this boot\'s kern.boottime, then shutdown -r now', (t) => {
    const b = bench(t);
    const script = rcd(b);
    const off = b.run(script, ['shutdown']);
    assert.equal(off.status, 1);
    assert.match(off.stderr, /set kexec_ts_final_enable=YES/);
    assert.deepEqual(off.calls, []);
    const on = b.run(script, ['shutdown'], {kexec_ts_final_enable: 'YES'});
    assert.equal(on.status, 0, on.stderr);
    assert.deepEqual(on.calls, ['kexec-ts status --check', 'sysctl -n kern.boottime', 'shutdown -r now']);
    assert.equal(readFileSync(join(b.db, 'final-armed'), 'utf8'), '{ sec = 1700000000, usec = 5 }\n');
    const nothing = b.run(script, ['shutdown'], {kexec_ts_final_enable: 'YES', STUB_STATUS: '7'});
    assert.equal(nothing.status, 7);
    assert.ok(!nothing.calls.includes('shutdown -r now'));
  });
});

test('every shell script passes shellcheck', {skip: SHELLCHECK_SKIP}, () => {
  const r = spawnSync('shellcheck', [FREEBSD_UPDATE, PKGBASE, RC_FINAL, RC_D], {encoding: 'utf8'});
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
