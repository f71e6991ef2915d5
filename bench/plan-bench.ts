/**
 * `npm run bench`: every target of issue 12, each against a reference measured in the same run, commands as fresh
 * processes alternating with their reference (one warm-up of each first), medians and min-max spread. Writes
 * BENCHMARKS.md's results section (bench/report.ts) and bench/out/results.json, prints the table on stdout
 * (progress on stderr) and exits 1 when any target is missed (2 when the bench itself fails).
 *
 * Options: --runs N (default 9, or $BENCH_RUNS; the 256 MiB and GENERIC rows use ceil(N/2)+2), --corpus DIR
 * (default ../shared/corpus; the GENERIC row is skipped when absent), --no-write (leave BENCHMARKS.md alone).
 */
import {mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs';
import {loadavg, tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {prepareInputs, type GenericCase} from './inputs.js';
import {describeMachine, makeRunner, median, type RunResult, type Runner} from './measure.js';
import {timeOverlapReport} from './overlap-timing.js';
import {writeReport, type Row} from './report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'bench', 'out');
const MiB = 2 ** 20;
const RSS_LIMIT_MIB = 160;
const HASH_ALL = "const c=require('crypto'),f=require('fs');for(const p of process.argv.slice(1))c.createHash('sha256').update(f.readFileSync(p)).digest('hex')";
const PROBE = join(ROOT, 'examples/probe-kernel/build/amd64');

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);
const spread = (xs: readonly number[]): string => `${Math.min(...xs).toFixed(0)}-${Math.max(...xs).toFixed(0)} ms`;
const mib = (kib: number | undefined): number => (kib ?? NaN) / 1024;

/** A step: one process, or a few in sequence (load then exec) timed together. */
type Step = () => Promise<RunResult>;

function cli(runner: Runner, args: readonly string[]): Step {
  return async () => {
    const r = await runner.run(['bin/run.js', ...args], ROOT, true);
    if (r.code !== 0) {
      let why = r.stderr.trim().split('\n').filter((l) => l.startsWith('kexec-ts:')).join(' ');
      try {
        const e = (JSON.parse(r.stdout) as {error?: {reason?: string; message?: string}}).error;
        if (e !== undefined) why = `${e.reason ?? ''}: ${e.message ?? ''}`;
      } catch {
        // not JSON: the stderr line stays the reason
      }
      throw new Error(`\`kexec-ts ${args[0] ?? ''}\` exited ${r.code} (${why})`);
    }
    return r;
  };
}

function node(runner: Runner, args: readonly string[]): Step {
  return async () => runner.run(args, ROOT);
}

/** `load` into a fresh sim state directory, then `exec` it: wall times added, the larger peak RSS of the two. */
function loadExec(runner: Runner, loadArgs: readonly string[]): Step & {rss: {load: number[]}} {
  const rss = {load: [] as number[]};
  const step = async (): Promise<RunResult> => {
    const state = mkdtempSync(join(tmpdir(), 'kexec-bench-state-'));
    try {
      const l = await cli(runner, ['load', '--backend', 'sim', '--state-dir', state, ...loadArgs])();
      const e = await cli(runner, ['exec', '--backend', 'sim', '--state-dir', state, '--yes'])();
      rss.load.push(mib(l.maxRssKiB));
      return {...e, wallMs: l.wallMs + e.wallMs, maxRssKiB: Math.max(l.maxRssKiB ?? 0, e.maxRssKiB ?? 0)};
    } finally {
      rmSync(state, {recursive: true, force: true});
    }
  };
  return Object.assign(step, {rss});
}

/** Runs `subject` and `reference` alternately `runs` times after one warm-up of each. */
async function alternate(what: string, subject: Step, reference: Step, runs: number): Promise<{s: RunResult[]; r: RunResult[]}> {
  log(`measuring ${what} (${runs} runs, load average ${loadavg()[0]?.toFixed(1)}) ...`);
  await reference();
  await subject();
  const s: RunResult[] = [];
  const r: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    r.push(await reference());
    s.push(await subject());
  }
  return {s, r};
}

function ratioRow(figure: string, target: number, m: {s: RunResult[]; r: RunResult[]}, reference: string): Row {
  const sm = median(m.s.map((x) => x.wallMs));
  const rm = median(m.r.map((x) => x.wallMs));
  const ratio = sm / rm;
  return {
    figure, target: `<= ${target}x`, measured: `${ratio.toFixed(2)}x (${sm.toFixed(0)} / ${rm.toFixed(0)} ms)`,
    spread: `${spread(m.s.map((x) => x.wallMs))} vs ${spread(m.r.map((x) => x.wallMs))}`, reference, ok: ratio <= target,
    peakRssMiB: Math.max(...m.s.map((x) => mib(x.maxRssKiB))),
  };
}

async function genericRow(runner: Runner, g: GenericCase, runs: number): Promise<{row: Row; loadRss: number}> {
  const step = loadExec(runner, ['--profile', 'amd64-4g', '--module-path', g.moduleDir, g.kernel, ...g.modules]);
  const m = await alternate('GENERIC-sized sim load + exec', step, node(runner, ['-e', HASH_ALL, g.kernel, ...g.modules]), runs);
  const row = ratioRow(`sim \`load\` + \`exec\`, GENERIC-sized (a ${(statSync(g.kernel).size / MiB).toFixed(0)} MiB kernel + ${g.modules.length} corpus modules, ${(g.bytes / MiB).toFixed(0)} MiB in all)`, 5, m,
    'one `node` reading and SHA-256-ing every input file');
  return {row, loadRss: Math.max(...step.rss.load)};
}

/** plan, sim load and exec of one big input, once each: works (exit 0) and each step's peak RSS. */
async function bigRun(runner: Runner, what: string, planArgs: readonly string[], loadArgs: readonly string[]): Promise<{ok: boolean; detail: string; rss: number[]}> {
  log(`running ${what} (plan, sim load, exec) ...`);
  try {
    const p = await cli(runner, ['plan', '--json', ...planArgs])();
    const step = loadExec(runner, loadArgs);
    const le = await step();
    const rss = [mib(p.maxRssKiB), step.rss.load[0] ?? NaN, mib(le.maxRssKiB)];
    return {ok: true, detail: `plan ${p.wallMs.toFixed(0)} ms, load + exec ${le.wallMs.toFixed(0)} ms`, rss};
  } catch (e) {
    return {ok: false, detail: e instanceof Error ? e.message : String(e), rss: []};
  }
}

async function main(): Promise<number> {
  const {values} = parseArgs({options: {
    runs: {type: 'string', default: process.env.BENCH_RUNS ?? '9'},
    corpus: {type: 'string', default: resolve(ROOT, '..', 'shared', 'corpus')},
    'no-write': {type: 'boolean', default: false},
  }});
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a positive integer, got ${values.runs}`);
  const bigRuns = Math.ceil(runs / 2) + 2;
  const runner = makeRunner();
  const machine = describeMachine();
  const loadAtStart = loadavg();
  log('preparing inputs in bench/out ...');
  const inputs = prepareInputs(OUT, values.corpus);
  const rows: Row[] = [];
  const nodeE0 = node(runner, ['-e', '0']);

  rows.push(ratioRow('`kexec-ts --help`', 1.5, await alternate('--help', cli(runner, ['--help']), nodeE0, runs), '`node -e 0`'));
  const probe = ['plan', '--json', '--module-path', PROBE, `${PROBE}/kernel`];
  rows.push(ratioRow('`plan --json` of the probe kernel', 2, await alternate('plan of the probe kernel', cli(runner, probe), nodeE0, runs), '`node -e 0`'));
  const big = ratioRow('`plan --json` of the 256 MiB, 64-PT_LOAD image', 0.9,
    await alternate('plan of the 256 MiB image', cli(runner, ['plan', '--json', inputs.bigElf]), node(runner, ['-e', HASH_ALL, inputs.bigElf]), bigRuns),
    'one `node` doing `readFileSync` + SHA-256 of the file (single thread)');
  rows.push(big);
  const generic = inputs.generic === undefined ? undefined : await genericRow(runner, inputs.generic, bigRuns);
  if (generic !== undefined) rows.push(generic.row);
  else log(`corpus ${values.corpus} is absent: the GENERIC-sized row is skipped`);

  const md15 = await bigRun(runner, '1.5 GiB sparse md_image', ['--loader-conf', inputs.md15.conf, '--module-path', PROBE, `${PROBE}/kernel`],
    ['--profile', 'amd64-4g', '--loader-conf', inputs.md15.conf, '--module-path', PROBE, `${PROBE}/kernel`]);
  const elf45 = await bigRun(runner, '4.5 GiB sparse generic ELF image', ['--memmap', inputs.elf45.memmap, inputs.elf45.image],
    ['--memmap', inputs.elf45.memmap, inputs.elf45.image]);
  const md45 = await bigRun(runner, '4.5 GiB sparse md_image', ['--loader-conf', inputs.md45.conf, '--memmap', inputs.elf45.memmap, '--module-path', PROBE, `${PROBE}/kernel`],
    ['--memmap', inputs.elf45.memmap, '--loader-conf', inputs.md45.conf, '--module-path', PROBE, `${PROBE}/kernel`]);

  // Peak RSS of plan and sim load, any input size: every plan and load measured above.
  const planLoadRss: [string, number][] = [
    ['plan, 256 MiB image', big.peakRssMiB ?? NaN],
    ...(generic === undefined ? [] : [['load, GENERIC-sized', generic.loadRss] as [string, number]]),
    ...(md15.ok ? [['plan / load, 1.5 GiB md_image', Math.max(md15.rss[0] ?? NaN, md15.rss[1] ?? NaN)] as [string, number]] : []),
    ...(elf45.ok ? [['plan / load, 4.5 GiB ELF', Math.max(elf45.rss[0] ?? NaN, elf45.rss[1] ?? NaN)] as [string, number]] : []),
  ];
  const worst = Math.max(...planLoadRss.map(([, v]) => v));
  rows.push({
    figure: 'peak RSS of `plan --json` and sim `load`, any input size', target: `<= ${RSS_LIMIT_MIB} MiB`, measured: `${worst.toFixed(0)} MiB (largest)`,
    spread: planLoadRss.map(([k, v]) => `${k}: ${v.toFixed(0)}`).join('; '), reference: '-', ok: worst <= RSS_LIMIT_MIB,
  });
  const bigRow = (figure: string, r: typeof md45, why?: string): Row => ({
    figure, target: `works, RSS <= ${RSS_LIMIT_MIB} MiB`,
    measured: r.ok ? `works, ${Math.max(...r.rss).toFixed(0)} MiB (plan ${r.rss[0]?.toFixed(0)}, load ${r.rss[1]?.toFixed(0)}, exec ${r.rss[2]?.toFixed(0)})` : 'refused',
    spread: r.detail, reference: '-', ok: r.ok && Math.max(...r.rss) <= RSS_LIMIT_MIB, ...(why === undefined ? {} : {note: why}),
  });
  rows.push(bigRow('4.5 GiB sparse `md_image` with a kernel: plan, sim load, exec', md45,
    'not possible in FreeBSD: the kernel reaches preloaded files at KERNBASE + loader address, a 2 GiB window on amd64 (1 GiB on arm64); kexec-ts refuses it with that reason'));
  rows.push(bigRow('1.5 GiB sparse `md_image` with a kernel (the largest kind amd64 can preload): plan, sim load, exec', md15));
  rows.push(bigRow('4.5 GiB sparse generic ELF image (a >4 GiB input): plan, sim load, exec', elf45));

  log('timing the differing-overlap report at 64 MiB ...');
  const overlap = timeOverlapReport(runs);
  rows.push({
    figure: 'differing-overlap report at 64 MiB (in process)', target: '<= 200 ms', measured: `${median(overlap).toFixed(1)} ms`,
    spread: `${Math.min(...overlap).toFixed(1)}-${Math.max(...overlap).toFixed(1)} ms`, reference: '-', ok: median(overlap) <= 200,
  });

  const loadAtEnd = loadavg();
  const text = writeReport({rows, machine, runs, bigRuns, rss: runner.method, loadAtStart, loadAtEnd}, values['no-write'] ? undefined : join(ROOT, 'BENCHMARKS.md'));
  process.stdout.write(text);
  writeFileSync(join(OUT, 'results.json'), `${JSON.stringify({machine, runs, rows, loadAtStart, loadAtEnd}, null, 2)}\n`);
  return rows.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    log(`bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  },
);
