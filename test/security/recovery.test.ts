/**
 * Recovery and resource exhaustion (issue 13 items 6 and 7): every corrupt-state case is reported by status
 * with a hint that works, and `unload` clears it (on native it always calls kexec_load with no segments, even
 * over a garbage staged.json); ENOSPC while staging is exit 5 naming the path and leaves no partial generation
 * and no lock (a real 256 KiB tmpfs where mounting is allowed, as root in CI; skipped elsewhere).
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {buildMock, haveGcc, readMockLog} from '../native/mock-lib.js';
import {IN_PROCESS_SKIP, cli} from '../helpers/cli.js';
import {tempDir, writeSmallElf} from '../helpers/lifecycle-cli.js';

const SIM = (state: string): string[] => ['--backend', 'sim', '--state-dir', state, '--json'];

interface Doc {
  error?: {code: number; reason: string; message: string; hint?: string};
  staged?: unknown;
}

async function json(args: string[], env?: Record<string, string>): Promise<{code: number; doc: Doc}> {
  const r = await cli(args, env === undefined ? {} : {env});
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  return {code: r.code, doc: JSON.parse(r.stdout) as Doc};
}

type Corruption = (state: string, gen: string) => void;

const CASES: Record<string, Corruption> = {
  'garbage record.json': (s, g) => writeFileSync(join(s, g, 'record.json'), '{"digest": 12', {mode: 0o600}),
  'current pointing nowhere': (s) => {
    rmSync(join(s, 'current'));
    symlinkSync('gen-1-1-aa', join(s, 'current'));
  },
  'current a regular file': (s) => {
    rmSync(join(s, 'current'));
    writeFileSync(join(s, 'current'), 'x', {mode: 0o600});
  },
  'current pointing outside': (s) => {
    rmSync(join(s, 'current'));
    symlinkSync('/etc', join(s, 'current'));
  },
  'garbage booted.json': (s) => writeFileSync(join(s, 'booted.json'), 'not json', {mode: 0o600}),
};

for (const [name, corrupt] of Object.entries(CASES)) {
  test(`sim, ${name}: status says state-corrupt (exit 5) with the unload hint, unload clears it`, {skip: IN_PROCESS_SKIP}, async (t) => {
    const dir = tempDir(t, 'kexec-recover-');
    const state = join(dir, 'state');
    const image = writeSmallElf(dir);
    assert.equal((await json(['load', ...SIM(state), '--profile', 'amd64-4g', image])).code, 0);
    const gen = readlinkSync(join(state, 'current'));
    corrupt(state, gen);
    const broken = await json(['status', ...SIM(state)]);
    assert.equal(broken.code, 5, JSON.stringify(broken.doc));
    assert.equal(broken.doc.error?.reason, 'state-corrupt');
    assert.match(broken.doc.error?.hint ?? '', /kexec-ts unload/);
    const unloaded = await json(['unload', ...SIM(state)]);
    assert.equal(unloaded.code, 0, JSON.stringify(unloaded.doc));
    const after = await json(['status', ...SIM(state)]);
    assert.equal(after.code, 0, JSON.stringify(after.doc));
    assert.equal(after.doc.staged, null);
    assert.deepEqual(readdirSync(state).filter((n) => n.startsWith('gen-') || n === 'current' || n === 'lock'), []);
  });
}

/** koffi is an optional dependency: the native case needs it. */
const KOFFI = ((): boolean => {
  try {
    return createRequire(import.meta.url).resolve('koffi') !== '';
  } catch {
    return false;
  }
})();

test('native, garbage staged.json: unload still calls kexec_load with no segments and removes the record', {
  skip: IN_PROCESS_SKIP || (haveGcc() ? false : 'gcc not found') || (KOFFI ? false : 'koffi not installed'),
}, async (t) => {
  const dir = tempDir(t, 'kexec-recover-native-');
  const lib = buildMock(dir);
  const records = join(dir, 'records');
  mkdirSync(records, {mode: 0o700});
  writeFileSync(join(records, 'staged.json'), '\u0000garbage', {mode: 0o600});
  const cfg = join(dir, 'kexec-ts.yaml');
  writeFileSync(cfg, `backend: native\nnative:\n  library: ${lib}\nstateDir: ${records}\n`, {mode: 0o600});
  const log = join(dir, 'mock.log');
  const status = await json(['status', '--config', cfg, '--json'], {KEXEC_MOCK_LOG: log});
  assert.equal(status.code, 5);
  assert.match(status.doc.error?.hint ?? '', /kexec-ts unload/);
  const unloaded = await json(['unload', '--config', cfg, '--json'], {KEXEC_MOCK_LOG: log});
  assert.equal(unloaded.code, 0, JSON.stringify(unloaded.doc));
  const {loads} = readMockLog(log);
  assert.deepEqual(loads.map((l) => [l.nseg, l.segsNull]), [[0, true]]);
  assert.equal(existsSync(join(records, 'staged.json')), false);
});

/** A 256 KiB tmpfs at a new directory, unmounted when the test ends; undefined where mounting is not allowed. */
function smallTmpfs(t: {after: (fn: () => void) => void}): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-enospc-'));
  const mnt = join(dir, 'mnt');
  mkdirSync(mnt, {mode: 0o700});
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mnt], {stdio: 'ignore'}).status === 0;
  t.after(() => {
    if (mounted) spawnSync('umount', [mnt], {stdio: 'ignore'});
    rmSync(dir, {recursive: true, force: true});
  });
  return mounted ? mnt : undefined;
}

test('ENOSPC while staging: exit 5 naming the path, no partial generation, no lock; exec on a full disk leaves no lock', {skip: IN_PROCESS_SKIP}, async (t) => {
  const mnt = smallTmpfs(t);
  if (mnt === undefined) return t.skip('mount -t tmpfs is not allowed here');
  const dir = tempDir(t, 'kexec-enospc-img-');
  const state = join(mnt, 'state');
  const image = writeSmallElf(dir);
  assert.equal((await json(['load', ...SIM(state), '--profile', 'amd64-4g', image])).code, 0);
  const staged = readlinkSync(join(state, 'current'));
  // A 1 MiB segment cannot fit in what is left of 256 KiB.
  const big = join(dir, 'big.elf');
  const {buildElf} = await import('../fixtures/elf-builder.js');
  writeFileSync(big, buildElf({machine: 62, entry: 0x200000n, segments: [{vaddr: 0x200000n, data: new Uint8Array(1 << 20).fill(0xa5)}]}));
  const full = await json(['load', ...SIM(state), big]);
  assert.equal(full.code, 5, JSON.stringify(full.doc));
  assert.match(full.doc.error?.message ?? '', new RegExp(`${state}/gen-[^ ]+: ENOSPC: no space left on device`));
  assert.deepEqual(readdirSync(state).filter((n) => n.startsWith('gen-')), [staged], 'only the previous generation is left');
  assert.equal(readlinkSync(join(state, 'current')), staged, 'the previous image is still staged');
  assert.equal(existsSync(join(state, 'lock')), false);
  // Fill the disk to the last byte, then exec: its lock cannot be written.
  const filler = join(mnt, 'filler');
  spawnSync('sh', ['-c', `cat /dev/zero > ${filler}`], {stdio: 'ignore'});
  const exec = await json(['exec', '--yes', ...SIM(state)]);
  assert.ok([0, 5].includes(exec.code), JSON.stringify(exec.doc));
  assert.equal(existsSync(join(state, 'lock')), false, 'no 0-byte lock left behind');
});
