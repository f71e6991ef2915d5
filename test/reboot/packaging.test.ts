/**
 * The FreeBSD port skeleton (packaging/freebsd/) against the package it installs from: every ${WRKSRC} file the
 * Makefile installs is in the npm tarball (`npm pack --dry-run`), every pkg-plist entry is installed by the
 * Makefile, and the plist names the man page, the rc.d script, the sample config and the state directory.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {PROJECT_ROOT} from '../helpers/corpus.js';

const PORT = join(PROJECT_ROOT, 'packaging/freebsd');

test('the port installs only what the npm tarball holds, and its plist lists what it installs', () => {
  const makefile = readFileSync(join(PORT, 'Makefile'), 'utf8');
  const plist = readFileSync(join(PORT, 'pkg-plist'), 'utf8').split('\n').filter((l) => l !== '');
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {cwd: PROJECT_ROOT, encoding: 'utf8'});
  assert.equal(r.status, 0, r.stderr);
  const [info] = JSON.parse(r.stdout.slice(r.stdout.indexOf('['))) as {files: {path: string}[]}[];
  const packed = new Set((info?.files ?? []).map((f) => f.path));

  const sources = [...makefile.matchAll(/\$\{WRKSRC\}\/([\w./-]+)/g)].map((m) => m[1] ?? '');
  assert.ok(sources.length >= 6, sources.join(' '));
  assert.deepEqual(sources.filter((s) => !packed.has(s)), [], 'installed from the tarball but not in it');
  const tree = /COPYTREE_SHARE\} "([^"]+)"/.exec(makefile)?.[1]?.split(' ') ?? [];
  for (const top of tree) assert.ok([...packed].some((p) => p === top || p.startsWith(`${top}/`)) || top === 'dist', `${top} is in the tarball`);

  for (const entry of plist) {
    if (entry.startsWith('@dir')) continue;
    const path = entry.replace(/^@sample /, '').replace(/\.gz$/, '');
    const installed = path.split('/').slice(-1)[0] ?? '';
    assert.ok(makefile.includes(installed) || makefile.includes(path.replace(/\/[^/]+$/, '')), `pkg-plist ${entry} is installed by the Makefile`);
  }
  for (const want of ['share/man/man8/kexec-ts.8.gz', 'etc/rc.d/kexec_ts', '@sample etc/kexec-ts.yaml.sample', 'libexec/kexec-ts/freebsd-update-kexec.sh', 'libexec/kexec-ts/pkgbase-kexec.sh', 'libexec/kexec-ts/rc.final-hook']) {
    assert.ok(plist.includes(want), `pkg-plist lists ${want}`);
  }
  assert.ok(plist.some((l) => /^@dir\(root,wheel,0700\) \/var\/db\/kexec-ts$/.test(l)), 'the state directory, root only');
  assert.match(makefile, /^LICENSE=\s+BSD2CLAUSE$/m, 'the license of package.json');
  assert.equal((JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {license: string}).license, 'BSD-2-Clause');
});
