/**
 * `npm run demo`: the main job on the embedded default. Loads the probe kernel (examples/probe-kernel: a tiny
 * FreeBSD-shaped kernel) for the host's architecture (amd64 elsewhere) with its sample module probe_hello, whose
 * dependency probe_dep is found and added, then execs it:
 *   npm run demo                                   simulated machine: prints the boot report
 *   npm run demo -- --backend qemu --arch arm64    boots the same plan under QEMU and prints the probe's console;
 *                                                  exits 0 only on PROBE OK with every checksum matching the plan
 *   npm run demo -- --backend qemu --host          plans against a host snapshot instead (test/fixtures/hosts:
 *                                                  amd64-bios-ufs-serial, arm64-uefi-acpi) with the probe build as
 *                                                  its /boot/kernel: the kernel, root, ACPI root, hints and memory
 *                                                  map come from the snapshot, as `kexec-ts load` finds them on a host
 *                                                  (probe_hello is asked for in its loader.conf)
 * State lives in a temporary directory. Other arguments go to `load` (e.g. `--howto -v --env hw.demo=1`).
 */
import {spawnSync} from 'node:child_process';
import {appendFileSync, cpSync, mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = join(root, 'bin', 'run.js');
const args = process.argv.slice(2);
const take = (flag: string, fallback: string): string => {
  const i = args.indexOf(flag);
  if (i < 0) return fallback;
  const [value] = args.splice(i, 2).slice(1);
  return value ?? fallback;
};
const hostAt = args.indexOf('--host');
const useHost = hostAt >= 0;
if (useHost) args.splice(hostAt, 1);
const backend = take('--backend', 'sim');
const arch = take('--arch', process.arch === 'arm64' ? 'arm64' : 'amd64');
if (!['sim', 'qemu'].includes(backend) || !['amd64', 'arm64'].includes(arch)) {
  process.stderr.write('demo: --backend sim|qemu and --arch amd64|arm64\n');
  process.exit(2);
}
const sample = join(root, 'examples', 'probe-kernel', 'build', arch);
const state = mkdtempSync(join(tmpdir(), 'kexec-ts-demo-'));
const common = ['--backend', backend, '--state-dir', state, ...(backend === 'qemu' ? ['--arch', arch] : [])];
const profile = backend === 'sim' ? ['--profile', arch === 'arm64' ? 'arm64-virt-2g' : 'amd64-4g'] : [];

function step(title: string, argv: string[]): void {
  process.stdout.write(`\n$ kexec-ts ${argv.join(' ')}\n`);
  const r = spawnSync(process.execPath, ['--', run, ...argv], {stdio: 'inherit'});
  if (r.status !== 0) {
    process.stderr.write(`demo: "${title}" failed with exit code ${r.status ?? 'signal'}\n`);
    rmSync(state, {recursive: true, force: true});
    process.exit(r.status ?? 1);
  }
}

/** A copy of the fixture host for `arch` with the probe build as its /boot/kernel (nextboot.conf left out). */
function snapshotHost(): string {
  const dir = join(state, 'host');
  cpSync(join(root, 'test', 'fixtures', 'hosts', arch === 'arm64' ? 'arm64-uefi-acpi' : 'amd64-bios-ufs-serial'), dir, {recursive: true});
  cpSync(sample, join(dir, 'root', 'boot', 'kernel'), {recursive: true});
  rmSync(join(dir, 'root', 'boot', 'nextboot.conf'), {force: true});
  // The host asks for the sample module the way a host does: in loader.conf.
  appendFileSync(join(dir, 'root', 'boot', 'loader.conf'), 'probe_hello_load="YES"\n');
  return dir;
}

try {
  const image = useHost ? ['--host', snapshotHost()] : [...profile, '--module-path', sample, join(sample, 'kernel'), 'probe_hello'];
  step('load', ['load', ...common, '--env', 'hw.demo=1', ...image, ...args]);
  step('status', ['status', ...common]);
  step('exec', ['exec', ...common, '--yes']);
  step('status', ['status', ...common]);
} finally {
  rmSync(state, {recursive: true, force: true});
}
