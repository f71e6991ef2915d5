/**
 * The host snapshot format (src/host/snapshot.ts, README "Host snapshots"): the committed binary sysctls of the
 * fixtures are exactly what test/fixtures/hosts/binary-sysctls.ts builds (so each byte has a documented origin), a
 * snapshot written by writeSnapshot reads back to the same facts, `host capture` refuses off FreeBSD without
 * writing anything, and the user's `--env kernelname=...` is what the kernel gets (scripts that plan a kernel
 * from another boot environment rely on it).
 */
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {readSnapshot, writeSnapshot} from '../../src/host/snapshot.js';
import {BINARY_SYSCTL_FILES} from '../fixtures/hosts/binary-sysctls.js';
import {IN_PROCESS_SKIP, cli} from '../helpers/cli.js';
import {PROJECT_ROOT} from '../helpers/corpus.js';

const HOSTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'hosts');
const work = mkdtempSync(join(tmpdir(), 'kexec-snapshot-'));
after(() => rmSync(work, {recursive: true, force: true}));

test('the committed binary sysctls are the documented generator\'s bytes', () => {
  for (const [host, files] of Object.entries(BINARY_SYSCTL_FILES)) {
    for (const [name, bytes] of Object.entries(files)) {
      assert.deepEqual(new Uint8Array(readFileSync(join(HOSTS, host, 'sysctl', name))), bytes, `${host}/sysctl/${name} (npm run host-fixtures)`);
    }
  }
});

test('writeSnapshot then readSnapshot gives the same facts', async () => {
  for (const host of Object.keys(BINARY_SYSCTL_FILES)) {
    const a = await readSnapshot(join(HOSTS, host));
    const out = join(work, host);
    await writeSnapshot(a, out);
    const b = await readSnapshot(out);
    assert.deepEqual(b.kenv.map((v) => [v.name, v.value]), a.kenv.map((v) => [v.name, v.value]), `${host}: kenv`);
    assert.deepEqual([...b.sysctl].map(([k, v]) => [k, v.value]), [...a.sysctl].map(([k, v]) => [k, v.value]), `${host}: sysctl`);
    assert.deepEqual([...b.binary].map(([k, v]) => [k, v.bytes]), [...a.binary].map(([k, v]) => [k, v.bytes]), `${host}: binary sysctls`);
    assert.deepEqual([b.machine, b.release], [a.machine, a.release]);
    for (const f of ['/etc/fstab', '/boot/loader.conf', '/boot/defaults/loader.conf']) {
      assert.deepEqual(await b.root.readText(f), await a.root.readText(f), `${host}: ${f}`);
    }
    await assert.rejects(writeSnapshot(a, out), (e: NodeJS.ErrnoException) => e.code === 'EEXIST', 'an existing directory is never written into');
  }
});

test('host capture off FreeBSD: exit 2, the reason, nothing written', {skip: process.platform === 'freebsd' ? 'this is FreeBSD' : IN_PROCESS_SKIP}, async () => {
  const dir = join(work, 'captured');
  const r = await cli(['host', 'capture', dir]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`^kexec-ts: this is ${process.platform}, not FreeBSD: there is no running FreeBSD host to read\\n`));
  assert.equal(existsSync(dir), false);
});

test('--env kernelname=... overrides the path the loader would record', {skip: IN_PROCESS_SKIP}, async () => {
  const kernel = join(PROJECT_ROOT, 'examples', 'probe-kernel', 'build', 'amd64', 'kernel');
  const r = await cli(['plan', '--json', kernel, '--env', 'kernelname=/boot/kernel.new/kernel']);
  assert.equal(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout) as {handoff: {env: Record<string, string>}};
  assert.equal(plan.handoff.env.kernelname, '/boot/kernel.new/kernel');
  const plain = JSON.parse((await cli(['plan', '--json', kernel])).stdout) as {handoff: {env: Record<string, string>}};
  assert.equal(plain.handoff.env.kernelname, kernel, 'without it: the absolute path of the kernel planned');
});

test('sysctl.txt: multi-line values continue only after an empty first line, as sysctl(8) prints them', async () => {
  const {parseSysctlText} = await import('../../src/host/sysctl-text.js');
  const ok = parseSysctlText('hw.machine=amd64\nvm.phys_segs=\nSEGMENT 0:\n\nstart:     0x1000\nhw.pagesize=4096\n', 'sysctl.txt');
  assert.deepEqual([...ok], [['hw.machine', 'amd64'], ['vm.phys_segs', '\nSEGMENT 0:\n\nstart:     0x1000'], ['hw.pagesize', '4096']]);
  assert.throws(() => parseSysctlText('hw.machine=amd64\n!!garbage line\n', 'sysctl.txt'),
    (e: Error & {code?: number}) => e.code === 2 && e.message === 'sysctl.txt:2: not a sysctl line (name=value): "!!garbage line"');
});
