/**
 * `host capture` and the no-argument `load` on FreeBSD read the running system through FreeBSD's own commands, by
 * absolute path (src/host/running-host.ts). Here those commands are stub scripts under a test root that print what
 * a host would (the fixture snapshot's files), with the test hook that pretends to be FreeBSD: the facts read,
 * written as a snapshot and read back, equal the fixture's, and every command was run by its absolute path.
 */
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {BINARY_SYSCTLS, HOST_COMMANDS, TEXT_SYSCTLS} from '../../src/host/host-facts.js';
import {runningHostFacts} from '../../src/host/running-host.js';
import {readSnapshot, writeSnapshot} from '../../src/host/snapshot.js';

const HOSTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'hosts');
const work = mkdtempSync(join(tmpdir(), 'kexec-running-host-'));
after(() => rmSync(work, {recursive: true, force: true}));

/** Stub FreeBSD commands printing the snapshot `fixture`'s files, logging their argv to LOG. */
function stubs(fixture: string, log: string): string {
  const root = join(work, `stubs-${fixture.split('/').pop() ?? ''}`);
  const put = (path: string, body: string): void => {
    mkdirSync(dirname(join(root, path)), {recursive: true});
    writeFileSync(join(root, path), `#!/bin/sh\necho "${path} $*" >> '${log}'\n${body}\n`);
    chmodSync(join(root, path), 0o755);
  };
  put('/bin/kenv', `cat '${fixture}/kenv'`);
  put('/usr/bin/uname', `cat '${fixture}/uname'`);
  put('/sbin/sysctl', `if [ "$1" = -b ]; then [ -f '${fixture}/sysctl/'"$2" ] || { echo "sysctl: unknown oid '$2'" >&2; exit 1; }; cat '${fixture}/sysctl/'"$2"; else cat '${fixture}/sysctl.txt'; fi`);
  put('/sbin/zpool', `f='${fixture}/commands/zpool-'"$1"; [ "$1" = get ] && f="$f-bootfs"; [ -f "$f" ] || { echo "zpool: no pools" >&2; exit 1; }; cat "$f"`);
  put('/sbin/mount', `[ -f '${fixture}/commands/mount-p' ] || exit 1; cat '${fixture}/commands/mount-p'`);
  return root;
}

for (const host of ['amd64-uefi-zfs', 'amd64-bios-ufs-serial', 'arm64-dtb']) {
  test(`${host}: the running system's facts equal the snapshot they were printed from`, async () => {
    const fixture = join(HOSTS, host);
    const log = join(work, `${host}.log`);
    const facts = await runningHostFacts({platform: 'freebsd', commandRoot: stubs(fixture, log), root: join(fixture, 'root')});
    const out = join(work, `${host}-captured`);
    await writeSnapshot(facts, out);
    const [a, b] = [await readSnapshot(fixture), await readSnapshot(out)];
    assert.deepEqual(b.kenv.map((v) => [v.name, v.value]), a.kenv.map((v) => [v.name, v.value]));
    assert.deepEqual(new Map([...b.sysctl].map(([k, v]) => [k, v.value])), new Map([...a.sysctl].map(([k, v]) => [k, v.value])));
    assert.deepEqual(new Map([...b.binary].map(([k, v]) => [k, v.bytes])), new Map([...a.binary].map(([k, v]) => [k, v.bytes])));
    assert.deepEqual(new Map([...b.commands].map(([k, v]) => [k, v.value])), new Map([...a.commands].map(([k, v]) => [k, v.value])));
    assert.deepEqual([b.machine, b.release], [a.machine, a.release]);
    assert.equal(await b.root.readText('/etc/fstab'), await a.root.readText('/etc/fstab'));

    const calls = readFileSync(log, 'utf8').trim().split('\n');
    assert.ok(calls.includes('/bin/kenv '), 'kenv by its absolute path');
    assert.ok(calls.includes(`/sbin/sysctl -e -i ${TEXT_SYSCTLS.join(' ')}`), 'sysctl -e -i with the text names');
    for (const n of BINARY_SYSCTLS) assert.ok(calls.includes(`/sbin/sysctl -b ${n}`), `sysctl -b ${n}`);
    for (const argv of Object.values(HOST_COMMANDS)) assert.ok(calls.includes(argv.join(' ')), argv.join(' '));
    assert.ok(calls.includes('/usr/bin/uname -mr'));
  });
}

test('not FreeBSD: refused with the reason and the way out', async () => {
  await assert.rejects(runningHostFacts({platform: 'linux'}), (e: Error & {code?: number}) => e.code === 2 && /^this is linux, not FreeBSD/.test(e.message));
});
