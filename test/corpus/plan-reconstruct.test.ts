/**
 * `kexec-ts plan --json --export DIR` on every ET_EXEC of the real-ELF corpus, with its machine's default profile
 * (when it has one) and with flat-4g. Every plan is checked from the outside: DIR/plan.json equals stdout, segment
 * files have bufsz bytes and the advertised SHA-256, extents are page aligned, sorted, disjoint and in RAM, and
 * physical memory rebuilt from the segment files holds every PT_LOAD (readelf facts from the manifest, bytes read
 * straight from the file) at p_paddr with zeros to p_memsz, and nothing else. Every refusal must be exit 4 with a
 * documented reason naming the rule and the addresses. The default-profile run lets the CLI pick the image type
 * (OSABI=FreeBSD files are taken as FreeBSD kernels); the flat-4g run forces `--image-type elf`, and what it must
 * do (flat-4g: all of [0, 4 GiB) is RAM) is predicted from the manifest, so the test cannot pass by refusing
 * everything.
 */
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {CLI_BUILT, CORPUS_SKIP, corpusFile, loadManifest, runCli, type CliResult, type ManifestEntry} from '../helpers/corpus.js';
import {assertLoaded, checkPlanOutput, checkRefusal, type PlanOut} from '../helpers/plan-check.js';

const skip = CORPUS_SKIP || (CLI_BUILT ? false : 'dist/ is not built (npm run build)');
const execs = loadManifest().filter((e) => e.type.startsWith('EXEC'));
/** Manifest machine names that have a default profile (x86-64 → amd64-4g, AArch64 → arm64-virt-2g, RISC-V → riscv64-virt-2g). */
const HAS_DEFAULT = new Set(['Advanced Micro Devices X86-64', 'AArch64', 'RISC-V']);
const FLAT_END = 0x1_0000_0000n;
/** Refusals of the FreeBSD-kernel path, accepted (besides the generic ones) for files whose OSABI is FreeBSD. */
const FREEBSD_REFUSALS = ['kernel-not-relocatable'];
const PAGE = 0x1000n;

interface Load {
  offset: bigint; vaddr: bigint; paddr: bigint; filesz: bigint; memsz: bigint;
}

function loadsOf(e: ManifestEntry): Load[] {
  return e.pt_load.map((p) => ({
    offset: BigInt(p.offset as string), vaddr: BigInt(p.vaddr as string), paddr: BigInt(p.paddr as string),
    filesz: BigInt(p.filesz as string), memsz: BigInt(p.memsz as string),
  }));
}

const hx = (v: bigint): string => `0x${v.toString(16)}`;

/** e_entry through the PT_LOAD whose virtual range holds it, else e_entry itself when a physical range holds it. */
function expectedEntry(e: ManifestEntry, loads: Load[]): bigint | undefined {
  const entry = BigInt(e.entry);
  const v = loads.find((l) => entry >= l.vaddr && entry < l.vaddr + l.memsz);
  if (v !== undefined) return v.paddr + (entry - v.vaddr);
  return loads.some((l) => entry >= l.paddr && entry < l.paddr + l.memsz) ? entry : undefined;
}

/** The byte a PT_LOAD puts at a physical address: file byte, or zero fill. */
function byteAt(file: Buffer, l: Load, addr: bigint): number {
  const i = addr - l.paddr;
  return i < l.filesz ? (file[Number(l.offset + i)] ?? -1) : 0;
}

/** Two PT_LOADs whose physical ranges overlap with different bytes. */
function hasConflict(file: Buffer, loads: Load[]): boolean {
  for (const [i, a] of loads.entries()) {
    for (const b of loads.slice(i + 1)) {
      const lo = a.paddr > b.paddr ? a.paddr : b.paddr;
      const hi = a.paddr + a.memsz < b.paddr + b.memsz ? a.paddr + a.memsz : b.paddr + b.memsz;
      for (let x = lo; x < hi; x++) if (byteAt(file, a, x) !== byteAt(file, b, x)) return true;
    }
  }
  return false;
}

/** The program interpreter readelf reports ("Requesting program interpreter: …"), or undefined. */
function interpreterOf(path: string): string | undefined {
  const r = spawnSync('readelf', ['-lW', path], {encoding: 'utf8'});
  return /Requesting program interpreter: ([^\]]+)\]/.exec(r.stdout)?.[1];
}

/** What flat-4g must give, from the manifest and readelf: 'plan' or the one refusal reason that applies. */
function predictFlat(e: ManifestEntry, file: Buffer): string {
  // A program with an interpreter is not a bootable image (FreeBSD kernels carry /red/herring, which is fine).
  const interp = interpreterOf(corpusFile(e.path));
  if (interp !== undefined && interp !== '/red/herring') return 'not-bootable';
  const loads = loadsOf(e).filter((l) => l.memsz > 0n);
  if (loads.length === 0) return 'empty-image';
  if (expectedEntry(e, loads) === undefined) return 'entry-outside';
  if (hasConflict(file, loads)) return 'overlap-conflict';
  const pageEnd = (l: Load): bigint => ((l.paddr + l.memsz + PAGE - 1n) / PAGE) * PAGE;
  if (loads.some((l) => pageEnd(l) > FLAT_END)) return 'outside-memory';
  return 'plan';
}

interface Run {
  entry: ManifestEntry;
  profile: string;
  args: string[];
  dir: string;
  result?: CliResult;
}

const root = mkdtempSync(join(tmpdir(), 'kexec-ts-plan-corpus-'));
after(() => rmSync(root, {recursive: true, force: true}));

const runs: Run[] = [];
execs.forEach((e, i) => {
  const profiles = HAS_DEFAULT.has(e.machine) ? ['default', 'flat-4g'] : ['flat-4g'];
  for (const profile of profiles) {
    const dir = join(root, `${i}-${profile}`);
    const args = ['plan', '--json', '--export', dir, ...(profile === 'default' ? [] : ['--profile', profile, '--image-type', 'elf']), corpusFile(e.path)];
    runs.push({entry: e, profile, args, dir});
  }
});

/** Checks a produced plan against the manifest and the file's own bytes. */
function checkPlan(run: Run, plan: PlanOut): void {
  const e = run.entry;
  const file = readFileSync(corpusFile(e.path));
  const mem = checkPlanOutput(plan, run.dir);
  if (run.profile !== 'default') assert.equal(plan.memoryMap.source, `profile ${run.profile}`);
  if (plan.kind === 'freebsd') {
    assert.equal(run.entry.osabi, 'UNIX - FreeBSD', 'only FreeBSD-branded files are planned as FreeBSD kernels');
    return; // a FreeBSD kernel is laid out by the loader's rules, not PT_LOAD by PT_LOAD at p_paddr
  }
  assert.equal(plan.kind, 'elf');
  const loads = loadsOf(e);
  for (const [i, l] of loads.entries()) {
    if (l.memsz === 0n) continue;
    assert.ok(l.offset + l.filesz <= BigInt(file.length), `manifest PT_LOAD ${i} lies inside the file`);
    const bytes = file.subarray(Number(l.offset), Number(l.offset + l.filesz));
    assertLoaded(mem, l.paddr, bytes, l.memsz, `${e.path} PT_LOAD #${i} (paddr ${hx(l.paddr)}, filesz ${hx(l.filesz)}, memsz ${hx(l.memsz)})`);
  }
  mem.assertOnly(loads.map((l) => ({start: l.paddr, length: Number(l.filesz)})));
  const want = expectedEntry(e, loads.filter((l) => l.memsz > 0n));
  assert.equal(plan.entry, want === undefined ? undefined : hx(want), 'entry is e_entry translated through its PT_LOAD');
}

/** Checks a refusal; its message must name the addresses of a manifest PT_LOAD (or the entry) it is about. */
function checkRefused(run: Run, r: CliResult): string {
  const extra = run.profile === 'default' && run.entry.osabi === 'UNIX - FreeBSD' ? FREEBSD_REFUSALS : [];
  const err = checkRefusal(r.code, r.stdout, r.stderr, extra);
  assert.ok(!existsSync(join(run.dir, 'plan.json')), 'a refused plan exports nothing');
  const loads = loadsOf(run.entry).filter((l) => l.memsz > 0n);
  if (['outside-memory', 'spans-ranges', 'overlap-conflict'].includes(err.reason)) {
    const named = loads.some((l) => err.message.includes(`[${hx(l.paddr)}, ${hx(l.paddr + l.memsz)})`));
    assert.ok(named, `the message names a PT_LOAD's physical range: ${err.message}`);
  }
  if (err.reason === 'entry-outside') assert.ok(err.message.includes(hx(BigInt(run.entry.entry))), `names e_entry: ${err.message}`);
  if (err.reason === 'empty-image') assert.equal(loads.length, 0, 'empty-image only when every PT_LOAD has p_memsz 0');
  return err.reason;
}

describe('plan --export on every ET_EXEC of the corpus: memory rebuilt from the segment files', {skip}, () => {
  before(async () => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < runs.length) {
        const run = runs[next++] as Run;
        run.result = await runCli(run.args);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  });

  test('the corpus has ET_EXEC files for several machines', () => {
    assert.ok(execs.length >= 5, `only ${execs.length} ET_EXEC files`);
    assert.ok(new Set(execs.map((e) => e.machine)).size >= 3);
  });

  for (const run of runs) {
    test(`${run.entry.path} (${run.profile === 'default' ? 'default profile' : `--profile ${run.profile}`})`, () => {
      const r = run.result;
      assert.ok(r !== undefined, 'the CLI ran');
      assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
      if (run.profile === 'flat-4g') {
        const predicted = predictFlat(run.entry, readFileSync(corpusFile(run.entry.path)));
        if (predicted === 'plan') {
          assert.equal(r.code, 0, `flat-4g must plan this image (stdout: ${r.stdout.slice(0, 600)})`);
        } else {
          assert.equal(checkRefused(run, r), predicted, 'refused for the reason the manifest predicts');
          return;
        }
      }
      if (r.code === 0) {
        assert.equal(r.stderr, '', 'nothing on stderr');
        checkPlan(run, JSON.parse(r.stdout) as PlanOut);
      } else {
        checkRefused(run, r);
      }
    });
  }

  test('plans were produced, not only refusals', () => {
    const planned = runs.filter((r) => r.result?.code === 0);
    const flat = planned.filter((r) => r.profile === 'flat-4g');
    assert.ok(planned.length >= runs.length / 2, `only ${planned.length} of ${runs.length} runs produced a plan`);
    assert.ok(flat.length >= 5, `only ${flat.length} flat-4g plans`);
    assert.ok(new Set(planned.map((r) => r.entry.machine)).size >= 3, 'plans for at least three machines');
    assert.ok(planned.some((r) => r.profile === 'default'), 'some default-profile runs plan too');
  });
});
