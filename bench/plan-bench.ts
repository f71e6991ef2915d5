/**
 * `npm run bench`: times `kexec-ts plan --json` on large inputs against the floor for the job on this runtime,
 * one Node process that reads the same file and SHA-256s all of it once. Floor and plan run alternately, each a
 * fresh process, one warm-up of each first. Reports median wall time, the ratio to the floor and peak RSS, as a
 * markdown table on stdout (progress goes to stderr). Exits 1 when the generated 256 MiB input misses a target:
 * wall time at most 1.5x the floor's, peak RSS under 1.5x the input size plus 100 MiB.
 *
 * Options: --runs N (default 7, or $BENCH_RUNS), --corpus DIR (default ../shared/corpus), --corpus-files N (timed
 * corpus inputs, default 3; 0 skips the corpus), --rss gnu-time|preload (default: GNU time when present).
 */
import {openSync, readSync, closeSync, readdirSync, statSync, writeFileSync} from 'node:fs';
import {join, relative, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';
import {DEFAULT_BIG_ELF, bigElfSize, ensureBigElf} from './gen-elf.js';
import {describeMachine, makeRunner, median, type Machine, type RssMethod, type RunResult, type Runner} from './measure.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'bench', 'out');
const BIG_ELF = join(OUT, 'big-64x4m.elf');
const MiB = 2 ** 20;
const WALL_TARGET = 1.5;
const FLOOR_SCRIPT =
  "const c=require('crypto'),f=require('fs');c.createHash('sha256').update(f.readFileSync(process.argv[1])).digest('hex')";

interface Input {
  readonly label: string;
  readonly file: string;
  readonly size: number;
  readonly profileArgs: readonly string[];
  readonly gate: boolean;
  readonly planInfo: string;
}

interface Row {
  readonly input: Input;
  readonly planMs: number[];
  readonly floorMs: number[];
  readonly planRssKiB: number[];
  readonly floorRssKiB: number[];
}

interface Refusal {
  readonly file: string;
  readonly size: number;
  readonly why: string;
}

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

function options(): {runs: number; corpus: string; corpusFiles: number; rss: RssMethod | undefined} {
  const {values} = parseArgs({
    options: {
      runs: {type: 'string', default: process.env.BENCH_RUNS ?? '7'},
      corpus: {type: 'string', default: resolve(ROOT, '..', 'shared', 'corpus')},
      'corpus-files': {type: 'string', default: '3'},
      rss: {type: 'string'},
    },
  });
  const runs = Number(values.runs);
  const corpusFiles = Number(values['corpus-files']);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: expected a positive integer, got ${values.runs}`);
  if (!Number.isInteger(corpusFiles) || corpusFiles < 0) throw new Error(`--corpus-files: expected an integer >= 0`);
  if (values.rss !== undefined && values.rss !== 'gnu-time' && values.rss !== 'preload') throw new Error('--rss: gnu-time or preload');
  return {runs, corpus: values.corpus, corpusFiles, rss: values.rss};
}

const planArgs = (input: Pick<Input, 'file' | 'profileArgs'>): string[] => ['bin/run.js', 'plan', '--json', ...input.profileArgs, input.file];
const floorArgs = (file: string): string[] => ['-e', FLOOR_SCRIPT, file];

interface PlanJSONLike {
  segments?: {memsz: string; bufsz: string; contents: {filesz: string}[]}[];
  merges?: string[];
  error?: {code?: number; reason?: string; message?: string};
}

function parseJSON(text: string): PlanJSONLike {
  try {
    return JSON.parse(text) as PlanJSONLike;
  } catch {
    return {};
  }
}

/** What the plan hashes: segments, merges, data bytes and zero fill (memsz past the file data). */
function summarisePlan(p: PlanJSONLike): string {
  const segs = p.segments ?? [];
  const memsz = segs.reduce((n, s) => n + Number(BigInt(s.memsz)), 0);
  const data = segs.reduce((n, s) => n + s.contents.reduce((m, c) => m + Number(BigInt(c.filesz)), 0), 0);
  return `${segs.length} segments, ${p.merges?.length ?? 0} merges, ${(memsz / MiB).toFixed(2)} MiB hashed ` +
    `(${(data / MiB).toFixed(2)} MiB file data, ${((memsz - data) / 1024).toFixed(0)} KiB zero fill)`;
}

/** Runs plan once; a refusal under the default profile for want of a memory map is retried with flat-4g. */
async function acceptance(runner: Runner, file: string): Promise<{profileArgs: string[]; info: string} | {why: string}> {
  let why = '';
  for (const profileArgs of [[], ['--profile', 'flat-4g']]) {
    const r = await runner.run(planArgs({file, profileArgs}), ROOT, true);
    const json = parseJSON(r.stdout);
    if (r.code === 0) return {profileArgs, info: summarisePlan(json)};
    const message = (json.error?.message ?? r.stderr.trim().split('\n')[0] ?? '').replace(`${file}: `, '');
    why = `exit ${r.code}: ${json.error?.reason ?? 'error'}: ${message}`;
    if (json.error?.reason !== 'no-memory-map') break;
  }
  return {why};
}

function isElf(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } finally {
    closeSync(fd);
  }
}

function elfFilesBySize(dir: string): {file: string; size: number}[] {
  const out: {file: string; size: number}[] = [];
  for (const e of readdirSync(dir, {withFileTypes: true, recursive: true})) {
    if (!e.isFile()) continue;
    const file = join(e.parentPath, e.name);
    if (isElf(file)) out.push({file, size: statSync(file).size});
  }
  return out.sort((a, b) => b.size - a.size);
}

/** The largest corpus ELF files plan accepts (up to `want`), and the refusals met on the way. */
async function corpusInputs(runner: Runner, dir: string, want: number): Promise<{inputs: Input[]; refusals: Refusal[]}> {
  const inputs: Input[] = [];
  const refusals: Refusal[] = [];
  if (want === 0) return {inputs, refusals};
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
  } catch {
    log(`corpus ${dir} is absent: skipping corpus inputs`);
    return {inputs, refusals};
  }
  for (const {file, size} of elfFilesBySize(dir)) {
    if (inputs.length >= want) break;
    const label = relative(dir, file);
    const a = await acceptance(runner, file);
    if ('why' in a) {
      refusals.push({file: label, size, why: a.why});
      log(`  refused: ${label}: ${a.why}`);
    } else {
      inputs.push({label: `corpus ${label}`, file, size, profileArgs: a.profileArgs, gate: false, planInfo: a.info});
      log(`  accepted: ${label}${a.profileArgs.length > 0 ? ` (${a.profileArgs.join(' ')})` : ''}: ${a.info}`);
    }
  }
  return {inputs, refusals};
}

function checkRun(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim()}`);
  return r;
}

async function measure(runner: Runner, input: Input, runs: number): Promise<Row> {
  const row: Row = {input, planMs: [], floorMs: [], planRssKiB: [], floorRssKiB: []};
  const floor = async (): Promise<RunResult> => checkRun(await runner.run(floorArgs(input.file), ROOT), `floor on ${input.label}`);
  const plan = async (): Promise<RunResult> => checkRun(await runner.run(planArgs(input), ROOT), `plan on ${input.label}`);
  await floor();
  await plan();
  for (let i = 0; i < runs; i++) {
    const f = await floor();
    const p = await plan();
    row.floorMs.push(f.wallMs);
    row.planMs.push(p.wallMs);
    if (f.maxRssKiB !== undefined) row.floorRssKiB.push(f.maxRssKiB);
    if (p.maxRssKiB !== undefined) row.planRssKiB.push(p.maxRssKiB);
    log(`  run ${i + 1}/${runs}: floor ${f.wallMs.toFixed(0)} ms, plan ${p.wallMs.toFixed(0)} ms`);
  }
  return row;
}

interface Verdict {
  ratio: number;
  planRssMiB: number;
  floorRssMiB: number;
  rssLimitMiB: number;
  wallOk: boolean;
  rssOk: boolean;
}

function verdict(row: Row): Verdict {
  const ratio = median(row.planMs) / median(row.floorMs);
  const peak = (xs: number[]): number => (xs.length === 0 ? NaN : Math.max(...xs) / 1024);
  const planRssMiB = peak(row.planRssKiB);
  const rssLimitMiB = (1.5 * row.input.size) / MiB + 100;
  return {ratio, planRssMiB, floorRssMiB: peak(row.floorRssKiB), rssLimitMiB, wallOk: ratio <= WALL_TARGET, rssOk: planRssMiB < rssLimitMiB};
}

function table(rows: readonly Row[]): string {
  const pf = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  const lines = [
    '| input | size MiB | plan ms (median) | floor ms (median) | plan / floor | plan ms min-max | plan peak RSS MiB | floor peak RSS MiB | RSS limit MiB | wall <= 1.5x | RSS < limit |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|:-:|:-:|',
  ];
  for (const row of rows) {
    const v = verdict(row);
    lines.push(
      `| ${row.input.label} | ${(row.input.size / MiB).toFixed(2)} | ${median(row.planMs).toFixed(0)} | ${median(row.floorMs).toFixed(0)} | ` +
        `${v.ratio.toFixed(2)}x | ${Math.min(...row.planMs).toFixed(0)}-${Math.max(...row.planMs).toFixed(0)} | ` +
        `${v.planRssMiB.toFixed(1)} | ${v.floorRssMiB.toFixed(1)} | ${v.rssLimitMiB.toFixed(1)} | ${pf(v.wallOk)} | ${pf(v.rssOk)} |`,
    );
  }
  return lines.join('\n');
}

function machineText(m: Machine, runs: number, method: RssMethod): string {
  return [
    `- Node: ${m.node} (${process.execPath})`,
    `- CPU: ${m.cpu}, ${m.cores} logical cores available${m.cpuQuota === undefined ? '' : `, quota ${m.cpuQuota}`}`,
    `- Memory: ${m.memoryGiB.toFixed(1)} GiB`,
    `- OS: ${m.kernel}`,
    `- Date: ${m.date}`,
    `- Runs: ${runs} measured per command after one warm-up each, floor and plan alternating; peak RSS via ${method === 'gnu-time' ? '/usr/bin/time -f %M' : 'a --require preload reading process.resourceUsage().maxRSS'}`,
  ].join('\n');
}

async function main(): Promise<number> {
  const opt = options();
  const runner = makeRunner(opt.rss);
  if (opt.runs < 5) log(`warning: --runs ${opt.runs} is below the 5 the targets are defined for`);
  const machine = describeMachine();

  log(`generating ${BIG_ELF} (${(bigElfSize(DEFAULT_BIG_ELF) / MiB).toFixed(0)} MiB) ...`);
  log(ensureBigElf(BIG_ELF) ? '  written' : '  reused (same size and headers)');
  const big = await acceptance(runner, BIG_ELF);
  if ('why' in big) throw new Error(`plan refuses the generated ELF: ${big.why}`);
  log(`  plan: ${big.info}`);
  const bigInput: Input = {
    label: `generated ELF64, ${DEFAULT_BIG_ELF.count} PT_LOADs x ${DEFAULT_BIG_ELF.loadSize / MiB} MiB`,
    file: BIG_ELF,
    size: statSync(BIG_ELF).size,
    profileArgs: big.profileArgs,
    gate: true,
    planInfo: big.info,
  };

  log(`choosing corpus inputs from ${opt.corpus} ...`);
  const {inputs: corpus, refusals} = await corpusInputs(runner, opt.corpus, opt.corpusFiles);

  const rows: Row[] = [];
  for (const input of [bigInput, ...corpus]) {
    log(`measuring ${input.label} ...`);
    rows.push(await measure(runner, input, opt.runs));
  }

  const out = [
    '## Results',
    '',
    table(rows),
    '',
    ...rows.map((r) => `- ${r.input.label}: ${r.input.planInfo}${r.input.profileArgs.length > 0 ? ` (${r.input.profileArgs.join(' ')})` : ''}`),
    ...(refusals.length === 0 ? [] : ['', 'Refused by `plan` (not timed):', '', ...refusals.map((r) => `- ${r.file} (${(r.size / MiB).toFixed(2)} MiB): ${r.why}`)]),
    '',
    '## Machine',
    '',
    machineText(machine, opt.runs, runner.method),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  writeFileSync(join(OUT, 'results.json'), `${JSON.stringify({machine, runs: opt.runs, rss: runner.method, rows, refusals}, null, 2)}\n`);

  const gate = rows.filter((r) => r.input.gate).map(verdict);
  const ok = gate.every((v) => v.wallOk && v.rssOk);
  process.stdout.write(`\nVerdict (256 MiB input): ${ok ? 'PASS' : 'FAIL'}\n`);
  return ok ? 0 : 1;
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
