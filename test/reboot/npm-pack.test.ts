/**
 * The package as a user gets it: the project's files as a fresh clone has them (git's list, no dist/) are packed
 * with `npm pack`, whose prepack must build dist/ first; the tarball is installed into a temporary prefix
 * (`npm install -g --prefix`, dependencies from npm's cache when it has them) and the installed command must run:
 * `--version`, `--help` listing the commands, and `plan` of the probe kernel shipped in the package. The tarball
 * must carry the man page, the LICENSE, the rc.d script and the upgrade scripts.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync, type SpawnSyncReturns} from 'node:child_process';
import {cpSync, mkdirSync, readdirSync, symlinkSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {PROJECT_ROOT} from '../helpers/corpus.js';
import {tempDir} from '../helpers/lifecycle-cli.js';

const NPM = 'npm';
const GIT_SKIP = spawnSync('git', ['-C', PROJECT_ROOT, 'rev-parse', '--is-inside-work-tree'], {stdio: 'ignore'}).status === 0 ? false : 'not a git checkout';

function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, [...args], {cwd, encoding: 'utf8', env: {...process.env, NO_COLOR: '1', ...env}, maxBuffer: 64 << 20, timeout: 300_000});
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} (in ${cwd}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

test('npm pack of a fresh checkout builds first, and the tarball installs and runs from a temporary prefix', {skip: GIT_SKIP, timeout: 600_000}, (t) => {
  const dir = tempDir(t, 'kexec-pack-');
  const clone = join(dir, 'clone');
  // A fresh clone's files: tracked and new (not ignored) ones, so no dist/ and no build output.
  const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], PROJECT_ROOT).stdout.split('\0').filter((f) => f !== '');
  for (const f of files) {
    mkdirSync(join(clone, dirname(f)), {recursive: true});
    try {
      cpSync(join(PROJECT_ROOT, f), join(clone, f));
    } catch {
      // a file deleted in the working tree but still tracked: a clone of the commit would not have it either
    }
  }
  assert.ok(!files.some((f) => f.startsWith('dist/')), 'the checkout has no dist/');
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(clone, 'node_modules'));

  const packed = run(NPM, ['pack', '--json', '--pack-destination', dir], clone);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as {filename: string; files: {path: string}[]}[];
  assert.ok(info !== undefined);
  const inTarball = new Set(info.files.map((f) => f.path));
  for (const want of ['dist/commands/plan.js', 'dist/commands/exec.js', 'bin/run.js', 'man/kexec-ts.8', 'LICENSE', 'templates/rc.d/kexec_ts', 'templates/rc.final-hook.sh',
    'templates/scripts/freebsd-update-kexec.sh', 'templates/scripts/pkgbase-kexec.sh', 'templates/config/kexec-ts.yaml', 'examples/probe-kernel/build/amd64/kernel']) {
    assert.ok(inTarball.has(want), `${want} is in the tarball`);
  }

  const prefix = join(dir, 'prefix');
  run(NPM, ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(dir, info.filename)], dir);
  const bin = join(prefix, 'bin', 'kexec-ts');
  const home = join(dir, 'home');
  mkdirSync(home);
  const env = {HOME: home, KEXEC_TS_SYSCONFDIR: join(dir, 'no-etc')};
  assert.match(run(bin, ['--version'], home, env).stdout, /^kexec-ts\/0\.\d+\.\d+ /);
  const help = run(bin, ['--help'], home, env).stdout;
  for (const c of ['inspect', 'plan', 'load', 'exec', 'unload', 'status', 'init']) assert.match(help, new RegExp(`^\\s+${c}\\s`, 'm'), `--help lists ${c}`);
  const k = join(prefix, 'lib/node_modules/kexec-ts/examples/probe-kernel/build/amd64');
  const plan = run(bin, ['plan', '--module-path', k, join(k, 'kernel'), 'probe_hello', '--json'], home, env);
  const p = JSON.parse(plan.stdout) as {kind: string; files: string[]; segments: unknown[]};
  assert.equal(p.kind, 'freebsd');
  assert.deepEqual(p.files.map((f) => f.slice(k.length + 1)), ['kernel', 'probe_hello.ko', 'probe_dep.ko']);
  assert.ok(readdirSync(join(prefix, 'lib/node_modules/kexec-ts/dist/commands')).includes('plan.js'));
  assert.ok(readdirSync(join(prefix, 'share/man/man8')).includes('kexec-ts.8'), 'npm installs the man page (package.json "man")');
});
