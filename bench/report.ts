/**
 * BENCHMARKS.md, written whole from one run of bench/plan-bench.ts: how to run it, what each row measures and
 * against what, the results table with the machine and its load, and the verdict. Returns the text written (the
 * same text is printed on stdout).
 */
import {writeFileSync} from 'node:fs';
import type {Machine, RssMethod} from './measure.js';

export interface Row {
  readonly figure: string;
  readonly target: string;
  readonly measured: string;
  readonly spread: string;
  readonly reference: string;
  readonly ok: boolean;
  readonly peakRssMiB?: number;
  /** Why a target cannot be met as stated. */
  readonly note?: string;
}

export interface Report {
  readonly rows: readonly Row[];
  readonly machine: Machine;
  readonly runs: number;
  readonly bigRuns: number;
  readonly rss: RssMethod;
  readonly loadAtStart: readonly number[];
  readonly loadAtEnd: readonly number[];
}

const HOW = `# Benchmarks

Written by \`npm run bench\` (bench/plan-bench.ts) from one run; do not edit by hand.

## How to run

\`\`\`sh
npm run bench                  # build, then every row below; exits 1 when a target is missed
npm run bench -- --runs 15     # more runs per command (default 9, or $BENCH_RUNS)
npm run bench -- --no-write    # print the table, leave BENCHMARKS.md alone
\`\`\`

Inputs are generated into \`bench/out\` (reused when present): the 256 MiB ELF (64 PT_LOADs of 4 MiB of AES-CTR
keystream, 4 KiB apart, so 48 merges into 16 segments); the GENERIC-sized FreeBSD case, a FreeBSD-shaped amd64
kernel of about 40 MiB built the way the tests build theirs (test/fixtures/freebsd-kernel.ts: KERNBASE link,
ABI note, module metadata, symbols) providing every module \`../shared/corpus/freebsd-14-amd64/linker.hints\`
credits to \`kernel\`, loaded with all 77 corpus modules of that folder; sparse raw md_images of 1.5 and 4.5 GiB
named by loader.conf files; and a sparse 4.5 GiB generic ELF image (one PT_LOAD of 4.5 GiB of file data) with a
memory map that has 8 GiB of RAM above 4 GiB.

## How it is measured

Each timed command is a fresh process (\`node bin/run.js ...\`, the bundled CLI), timed from spawn to exit;
peak RSS from GNU \`time -f %M\` (or a preload reading \`process.resourceUsage().maxRSS\`). A command and its
reference run alternately, after one warm-up of each, so both see the same machine load and page cache; the
table gives the ratio of the medians and each side's min-max. References: \`node -e 0\` for start-up; for the
256 MiB plan, one \`node\` process doing \`readFileSync\` and one SHA-256 of the file (the single-thread floor
for a job that must read and hash every byte); for the GENERIC-sized case, one \`node\` process reading and
hashing every input file. The 1.5/4.5 GiB rows run plan, sim load and exec once each (minutes of hashing
otherwise). The overlap row is timed inside the bench process.
`;

function table(rows: readonly Row[]): string {
  const lines = ['| figure | target | measured (median) | spread (min-max) | reference | met |', '|---|---|---|---|---|:-:|'];
  for (const r of rows) lines.push(`| ${r.figure} | ${r.target} | ${r.measured} | ${r.spread} | ${r.reference} | ${r.ok ? 'yes' : '**no**'} |`);
  return lines.join('\n');
}

export function writeReport(r: Report, path: string | undefined): string {
  const m = r.machine;
  const missed = r.rows.filter((x) => !x.ok);
  const text = [
    HOW,
    '## Results',
    '',
    table(r.rows),
    '',
    ...r.rows.filter((x) => x.note !== undefined).map((x) => `- ${x.figure}: ${x.note}`),
    '',
    `**Verdict:** ${missed.length === 0 ? 'every target met' : `${missed.length} of ${r.rows.length} targets missed: ${missed.map((x) => x.figure).join('; ')}`}.`,
    '',
    '## Machine',
    '',
    `- Node: ${m.node}; CPU: ${m.cpu}, ${m.cores} logical cores${m.cpuQuota === undefined ? '' : `, quota ${m.cpuQuota}`}; memory ${m.memoryGiB.toFixed(1)} GiB; ${m.kernel}`,
    `- Date: ${m.date}; runs: ${r.runs} per command (${r.bigRuns} for the 256 MiB and GENERIC rows); peak RSS via ${r.rss === 'gnu-time' ? 'GNU time' : 'a preload'}`,
    `- Load average (1, 5, 15 min) at the start: ${r.loadAtStart.map((x) => x.toFixed(1)).join(', ')}; at the end: ${r.loadAtEnd.map((x) => x.toFixed(1)).join(', ')}` +
      ' (other jobs share this machine: on 2 cores a load above 2 means the timed commands waited for a CPU, which hits the parallel rows hardest)',
    '',
  ].join('\n');
  if (path !== undefined) writeFileSync(path, text);
  return text;
}
