/**
 * The QEMU backend's verdict on one boot: the run must end with the probe's PROBE OK (not a timeout, not silence,
 * not PROBE FAIL), and then everything the probe saw must be what the plan promised: its arch, modulep, kernend,
 * howto, environment and the hand-off items (root, ACPI, hints, memory map record, FW_HANDLE), and for every file in the plan's hand-off a FILE line with the same name, type, address
 * and size whose crc32 equals the CRC-32 of the plan's bytes at that file's physical address. The probe's word
 * alone is not enough: it checks that the hand-off is well formed, this checks that it is the planned one.
 * A staged segment whose bytes no longer hash to plan.json's SHA-256 (changed after load) is a mismatch of its
 * own, naming the files it holds: QEMU booted it, so the probe's CRCs of those files vouch for nothing.
 * Failures are KexecError exit 5 with reason qemu-timeout, probe-fail or probe-mismatch; their details carry the
 * console, so a caller (or --json) sees what the guest printed.
 */
import {KexecError, hex} from '../../errors.js';
import type {PlanDescription} from '../../plan/types.js';
import {crc32, crc32Hex} from './crc32.js';
import {parseProbeConsole, type ProbeTranscript} from './console-protocol.js';
import {itemProblems} from './item-problems.js';
import {plannedHandoff, type PlannedHandoff} from './planned-handoff.js';
import type {QemuRun} from './qemu-run.js';
import type {StagedImage, StagedSegment} from './staged-image.js';

export interface Verdict {
  /** One line summing up what was checked. */
  readonly line: string;
  readonly transcript: ProbeTranscript;
}

/** The last few non-empty console lines, for one-line messages. */
function consoleTail(lines: readonly string[], n = 5): string {
  const tail = lines.filter((l) => l.trim() !== '').slice(-n);
  return tail.length === 0 ? '(nothing)' : tail.join(' | ');
}

function runDetails(run: QemuRun): Record<string, unknown> {
  return {console: run.lines, stderr: run.stderr, command: run.command, exitCode: run.exitCode, signal: run.signal, durationMs: run.durationMs};
}

function segmentName(s: StagedSegment): string {
  return `segment-${String(s.index).padStart(2, '0')}.bin`;
}

/** Staged segments whose bytes are no longer plan.json's: QEMU booted them, so nothing in them can be vouched for. */
function segmentProblems(staged: StagedImage, h: PlannedHandoff | undefined): string[] {
  return staged.changed().map((s) => {
    const files = (h?.files ?? []).filter((f) => f.physical < s.mem + s.memsz && s.mem < f.physical + f.size).map((f) => `FILE ${f.name}`);
    const holds = files.length === 0 ? '' : `, holding ${files.join(', ')}`;
    return `${segmentName(s)} was changed after load (SHA-256 ${s.sha256.slice(0, 12)}… instead of plan.json's ${s.expectedSha256.slice(0, 12)}…): ` +
      `QEMU booted bytes at ${hex(s.mem)} that are not the plan's${holds}`;
  });
}

function fileProblems(h: PlannedHandoff, t: ProbeTranscript, staged: StagedImage): string[] {
  const problems: string[] = [];
  for (const pf of h.files) {
    const seen = t.files.filter((f) => f.name === pf.name);
    const f = seen[0];
    if (f === undefined) {
      problems.push(`the probe reported no FILE line for ${pf.name} (the plan has it at ${hex(pf.addr)}, ${hex(pf.size)} bytes)`);
      continue;
    }
    if (seen.length > 1) problems.push(`the probe reported FILE ${pf.name} ${seen.length} times`);
    if (f.type !== pf.type && f.type !== pf.type.replaceAll(' ', '_')) problems.push(`FILE ${pf.name}: the probe found type "${f.type}", the plan has "${pf.type}"`);
    if (f.addr !== pf.addr || f.size !== pf.size) {
      problems.push(`FILE ${pf.name}: the probe found addr ${hex(f.addr)} size ${hex(f.size)}, the plan has addr ${hex(pf.addr)} size ${hex(pf.size)}`);
      continue;
    }
    const read = staged.read(pf.physical, pf.size);
    if ('uncovered' in read) {
      problems.push(`FILE ${pf.name}: physical ${hex(read.uncovered)} (of ${hex(pf.physical)} + ${hex(pf.size)}) is in no segment of the plan`);
      continue;
    }
    // Bytes in a segment changed after load are not the plan's: that segment's problem says so (segmentProblems).
    if (staged.overlapping(pf.physical, pf.size).some((g) => g.sha256 !== g.expectedSha256)) continue;
    const expected = crc32(read.bytes);
    if (f.crc32 !== expected) {
      problems.push(`crc mismatch for FILE ${pf.name}: the probe read crc32 ${crc32Hex(f.crc32)}, the plan's bytes at physical ${hex(pf.physical)}, ${hex(pf.size)} bytes give ${crc32Hex(expected)}`);
    }
  }
  for (const name of new Set(t.files.map((f) => f.name))) {
    if (!h.files.some((pf) => pf.name === name)) problems.push(`the probe reported FILE ${name}, which the plan does not load`);
  }
  return problems;
}

function envProblems(h: PlannedHandoff, t: ProbeTranscript): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  for (const [k, v] of t.env) {
    if (seen.has(k)) problems.push(`the probe reported ENV ${k} twice`);
    seen.set(k, v);
  }
  for (const [k, v] of h.env) {
    const got = seen.get(k);
    if (got === undefined) problems.push(`the probe reported no ENV ${k} (the plan sets ${k}=${v})`);
    else if (got !== v) problems.push(`ENV ${k}: the probe found ${JSON.stringify(got)}, the plan sets ${JSON.stringify(v)}`);
  }
  for (const k of seen.keys()) if (!h.env.has(k)) problems.push(`the probe reported ENV ${k}, which the plan does not set`);
  return problems;
}

function handoffProblems(plan: PlanDescription, h: PlannedHandoff, t: ProbeTranscript): string[] {
  const problems: string[] = [];
  const b = t.begin;
  if (b !== undefined) {
    if (b.modulep !== h.modulep) problems.push(`the probe was entered with modulep ${hex(b.modulep)}, the plan passes ${hex(h.modulep)}`);
    // arm64's entry ABI passes modulep only (x0); a probe may print kernend 0 there.
    const kernendOk = b.kernend === h.kernend || (plan.arch === 'arm64' && b.kernend === 0n);
    if (!kernendOk) problems.push(`the probe was entered with kernend ${hex(b.kernend)}, the plan passes ${hex(h.kernend)}`);
  }
  if (t.howto === undefined) problems.push('the probe reported no HOWTO');
  else if (t.howto !== h.howto) problems.push(`HOWTO: the probe found ${hex(t.howto)}, the plan has ${hex(h.howto)}`);
  if (t.kernend === undefined) problems.push('the probe reported no KERNEND');
  else if (t.kernend !== h.kernend) problems.push(`KERNEND: the probe found ${hex(t.kernend)}, the plan has ${hex(h.kernend)}`);
  return problems;
}

/** Everything that disagrees between the probe's report and the staged plan (empty when all agree). */
function probeMismatches(t: ProbeTranscript, plan: PlanDescription, staged: StagedImage): string[] {
  const h = plannedHandoff(plan);
  const problems = segmentProblems(staged, h);
  if (t.begin === undefined) problems.push('the probe printed no PROBE BEGIN line');
  else if (t.begin.arch !== plan.arch) problems.push(`the probe reports arch ${t.begin.arch}, the plan is for ${plan.arch}`);
  for (const m of t.malformed) problems.push(`console line ${m.line} does not follow the probe protocol: ${JSON.stringify(m.text)}`);
  if (h !== undefined) problems.push(...handoffProblems(plan, h, t), ...envProblems(h, t), ...itemProblems(h, t), ...fileProblems(h, t, staged));
  return problems;
}

/** The verdict on a finished run; throws KexecError (exit 5) unless the probe said OK and agrees with the plan. */
export function judgeRun(run: QemuRun, plan: PlanDescription, staged: StagedImage, timeoutMs: number): Verdict {
  const details = runDetails(run);
  if (run.timedOut) {
    throw new KexecError('backend', `qemu: timed out after ${timeoutMs / 1000} s; console: ${consoleTail(run.lines)}`, {
      reason: 'qemu-timeout', details, hint: 'the guest never printed PROBE OK or PROBE FAIL: see details.console, or raise the timeout',
    });
  }
  const t = parseProbeConsole(run.lines);
  if (t.verdict === undefined) {
    const status = run.signal !== null ? `signal ${run.signal}` : `status ${run.exitCode ?? '?'}`;
    const said = run.stderr === '' ? '' : `; qemu said: ${run.stderr.split('\n')[0] ?? ''}`;
    throw new KexecError('backend', `qemu: exited (${status}) without PROBE OK or PROBE FAIL; console: ${consoleTail(run.lines)}${said}`, {
      reason: 'probe-fail', details,
    });
  }
  if (!t.verdict.ok) {
    throw new KexecError('backend', `qemu: PROBE FAIL ${t.verdict.reason}`, {reason: 'probe-fail', details});
  }
  const problems = probeMismatches(t, plan, staged);
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    throw new KexecError('backend', `qemu: ${problems[0] ?? ''}${more}`, {reason: 'probe-mismatch', details: {...details, problems}});
  }
  const h = plannedHandoff(plan);
  const secs = (run.durationMs / 1000).toFixed(2);
  const line = h === undefined
    ? `qemu: PROBE OK; ${plan.segments.length} segments match plan.json (a generic ELF plan: no hand-off to compare); QEMU ran ${secs} s`
    : `qemu: PROBE OK and the plan agrees: ${h.files.length} files (name, type, addr, size, CRC-32 of the planned bytes), ` +
      `${h.env.size} environment variables, howto ${hex(h.howto)}, modulep ${hex(h.modulep)}, kernend ${hex(h.kernend)}; QEMU ran ${secs} s`;
  return {line, transcript: t};
}
