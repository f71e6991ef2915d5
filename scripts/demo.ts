/**
 * `npm run demo`: the main job on the embedded default, on the simulated machine. Loads the sample FreeBSD
 * kernel with its sample module (whose dependency is found and added), then execs it and prints the boot report.
 * State lives in a temporary directory, so the demo never touches a real state directory. Extra arguments go to
 * `load` (e.g. `npm run demo -- --howto -v --env hw.demo=1`).
 */
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = join(root, 'bin', 'run.js');
const sample = join(root, 'examples', 'sample-kernel');
const state = mkdtempSync(join(tmpdir(), 'kexec-ts-demo-'));
const common = ['--backend', 'sim', '--state-dir', state];

function step(title: string, args: string[]): void {
  process.stdout.write(`\n$ kexec-ts ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [run, ...args], {stdio: 'inherit'});
  if (r.status !== 0) {
    process.stderr.write(`demo: "${title}" failed with exit code ${r.status ?? 'signal'}\n`);
    rmSync(state, {recursive: true, force: true});
    process.exit(r.status ?? 1);
  }
}

try {
  step('load', ['load', ...common, '--profile', 'amd64-4g', '--module-path', sample, '--env', 'hw.demo=1', join(sample, 'kernel'), 'hello', ...process.argv.slice(2)]);
  step('status', ['status', ...common]);
  step('exec', ['exec', ...common, '--yes']);
  step('status', ['status', ...common]);
} finally {
  rmSync(state, {recursive: true, force: true});
}
