#!/usr/bin/env node
/**
 * Runs the test files (`node --import tsx --test`) several at a time, the slow ones first: node's runner starts
 * files in the order given, so a QEMU boot or a property run started last would be the whole tail of the run.
 * Much of a test file's time is waiting (process start, QEMU, fsync), so more files than cores pay off.
 *
 *   node scripts/run-tests.mjs                       # every test/**\/*.test.ts
 *   node scripts/run-tests.mjs test/sim              # the files under these paths
 *   node scripts/run-tests.mjs --checks              # and `npm run typecheck` and `npm run lint` alongside
 *   KEXEC_TEST_CONCURRENCY=1 node scripts/run-tests.mjs   # one file at a time (default: cores + 2)
 *
 * With --checks (what `npm test` does after building) the type check and the lint run while the tests run, their
 * output held back and printed after the tests, so the three share the cores instead of queueing. Exit status:
 * the runner's, or 1 when a check failed.
 */
import {spawn} from 'node:child_process';
import {readdirSync, statSync} from 'node:fs';
import {availableParallelism} from 'node:os';
import {join, relative} from 'node:path';
import {performance} from 'node:perf_hooks';
import {URL, fileURLToPath} from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Files or folders (relative to the root) that take longest, longest first: they start before the rest. */
const SLOW_FIRST = [
  'test/reboot/npm-pack.test.ts',
  'test/property/elf-fuzz.test.ts',
  'test/reboot/ansible.test.ts',
  'test/property/planner-property.test.ts',
  'test/lifecycle/json-streams.test.ts',
  'test/qemu/qemu-boot.test.ts',
  'test/probe/probe-build.test.ts',
  'test/qemu/cli-boot.test.ts',
  'test/qemu/qemu-handoff-items.test.ts',
  'test/freebsd-deps/dependencies.test.ts',
  'test/qemu/shim-boot.test.ts',
  'test/sim/large-sparse-image.test.ts',
  'test/qemu/qemu-probe.test.ts',
  'test/lifecycle/',
  'test/corpus/plan-reconstruct.test.ts',
  'test/freebsd-deps/',
  'test/qemu/',
  'test/sim/',
];

function testFiles(path) {
  if (statSync(path).isFile()) return path.endsWith('.test.ts') ? [path] : [];
  return readdirSync(path).sort().flatMap((name) => testFiles(join(path, name)));
}

function rank(file) {
  const i = SLOW_FIRST.findIndex((p) => (p.endsWith('/') ? file.startsWith(p) : file === p));
  return i < 0 ? SLOW_FIRST.length : i;
}

const args = process.argv.slice(2);
const withChecks = args.includes('--checks');
const roots = args.filter((a) => a !== '--checks');
const files = [...new Set((roots.length > 0 ? roots : ['test']).flatMap((p) => testFiles(join(ROOT, p))))]
  .map((f) => relative(ROOT, f))
  .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
if (files.length === 0) {
  process.stderr.write(`run-tests: no *.test.ts under ${roots.join(' ')}\n`);
  process.exit(2);
}

const env = process.env.KEXEC_TEST_CONCURRENCY;
const concurrency = env === undefined || env === '' ? availableParallelism() + 2 : Number(env);
if (!Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write(`run-tests: KEXEC_TEST_CONCURRENCY must be a whole number >= 1, not ${JSON.stringify(env)}\n`);
  process.exit(2);
}

/** `npm run NAME` with its output held back; resolves with the status, the output and the seconds it took. */
function check(name) {
  const started = performance.now();
  return new Promise((resolve) => {
    const c = spawn('npm', ['run', '--silent', name], {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe']});
    let out = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (out += d));
    c.on('close', (code) => resolve({name, code, out, seconds: (performance.now() - started) / 1000}));
  });
}

const checks = withChecks ? [check('typecheck'), check('lint')] : [];
// The test runner's output streams through, except its summary (from "ℹ tests N" on), held back and printed
// last, after the checks' lines: a CI log then ends with the summary.
let held = '';
let pending = '';
const tests = new Promise((resolve) => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    if (held !== '') {
      held += d;
      return;
    }
    pending += d;
    const at = pending.search(/^ℹ tests \d/m);
    if (at >= 0) {
      process.stdout.write(pending.slice(0, at));
      held = pending.slice(at);
      pending = '';
      return;
    }
    const cut = pending.lastIndexOf('\n') + 1;
    process.stdout.write(pending.slice(0, cut));
    pending = pending.slice(cut);
  });
  child.on('close', (code, signal) => resolve(signal === null ? code ?? 1 : 1));
});

const testStatus = await tests;
process.stdout.write(pending);
let failed = testStatus !== 0;
for (const c of await Promise.all(checks)) {
  if (c.code !== 0) {
    failed = true;
    process.stdout.write(`\n--- npm run ${c.name} failed (exit ${c.code}):\n${c.out}`);
  }
  process.stdout.write(`run-tests: ${c.name} ${c.code === 0 ? 'passed' : 'FAILED'} (${c.seconds.toFixed(1)} s)\n`);
}
process.exitCode = failed ? (testStatus !== 0 ? testStatus : 1) : 0;
process.stdout.write(held);
