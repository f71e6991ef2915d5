/**
 * The simulated machine's exec: what kexec_reboot_md does (copy every staged segment to its physical address,
 * zero-fill to memsz, jump to the entry), plus the checks a real machine cannot make afterwards: plan.json must
 * be what was staged (the staging store checks every field's digest), every segment's SHA-256 (file bytes + zero
 * fill, read back from physical memory) must match, the entry must lie in loaded memory, and the hand-off is
 * decoded from memory by a decoder written apart from the encoder and compared with what the plan promised.
 */
import {closeSync, fstatSync, openSync, readSync} from 'node:fs';
import {createHash} from 'node:crypto';
import {basename} from 'node:path';
import {KexecError, hex} from '../../errors.js';
import {errnoCode} from '../../io/read-input.js';
import type {FreeBsdHandoff} from '../../image/types.js';
import type {PlanDescription, SegmentDescription} from '../../plan/types.js';
import type {StagedGeneration, StateStore} from '../staging/state-store.js';
import type {BootReport} from '../types.js';
import {decodeElfHandoff} from './elf-handoff.js';
import {decodeFreeBsdHandoff, type FoundFreeBsdHandoff} from './freebsd-handoff.js';
import type {Machine} from './machine.js';
import {PhysicalMemory} from './physical-memory.js';

const CHUNK = 1 << 20;

function refuse(reason: string, message: string, details: Record<string, unknown> = {}): KexecError {
  return new KexecError('backend', `sim: exec: ${message}`, {
    reason,
    details,
    hint: 'the staged image no longer matches what was loaded: load it again',
  });
}

/** Copies segment-NN.bin (exactly bufsz bytes) to its physical address and zero-fills up to memsz. */
function copySegment(memory: PhysicalMemory, s: SegmentDescription, index: number, path: string): void {
  const name = `segment ${index} (${basename(path)})`;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw refuse('segment-missing', `${name}: cannot open ${path} (${errnoCode(e) ?? 'error'})`, {segment: index});
  }
  try {
    const size = BigInt(fstatSync(fd).size);
    if (size !== s.bufsz) {
      throw refuse('digest-mismatch', `${name}: is ${hex(size)} bytes, plan.json says bufsz ${hex(s.bufsz)}`, {segment: index, file: path});
    }
    const buf = new Uint8Array(CHUNK);
    let at = 0n;
    while (at < s.bufsz) {
      const n = readSync(fd, buf, 0, Number(s.bufsz - at > BigInt(CHUNK) ? BigInt(CHUNK) : s.bufsz - at), null);
      if (n === 0) throw refuse('digest-mismatch', `${name}: ends early at ${hex(at)}`, {segment: index, file: path});
      memory.write(s.mem + at, buf.subarray(0, n));
      at += BigInt(n);
    }
  } finally {
    closeSync(fd);
  }
  memory.zero(s.mem + s.bufsz, s.memsz - s.bufsz);
  memory.addRegion({start: s.mem, end: s.mem + s.memsz, label: `segment ${index}`});
}

/** SHA-256 of [mem, mem+memsz) as the new kernel would find it. */
function memoryDigest(memory: PhysicalMemory, s: SegmentDescription): string {
  const h = createHash('sha256');
  memory.forEachChunk(s.mem, s.memsz, (c) => h.update(c));
  return h.digest('hex');
}

function describeMachine(m: Machine): string {
  const profile = m.profile !== null && m.memoryMap.source !== `profile ${m.profile}` ? `profile ${m.profile}, ` : '';
  return `${profile}${m.memoryMap.source}, arch ${m.arch}, page size ${hex(m.pageSize)}`;
}

/** Where what the kernel found differs from what the plan promised (empty when they agree). */
function handoffMismatches(planned: FreeBsdHandoff, found: FoundFreeBsdHandoff): string[] {
  const out: string[] = [];
  if (found.howto !== planned.howto) out.push(`howto ${hex(found.howto)} in memory, ${hex(planned.howto)} planned`);
  if (found.kernend !== planned.kernend) out.push(`kernend ${hex(found.kernend)} in memory, ${hex(planned.kernend)} planned`);
  if (found.envp !== planned.envp) out.push(`envp ${hex(found.envp)} in memory, ${hex(planned.envp)} planned`);
  const key = (f: {name: string; type: string; args?: string; addr: bigint; size: bigint}): string =>
    `${f.name} (${f.type}${f.args === undefined ? '' : `, args "${f.args}"`}) at ${hex(f.addr)}, ${hex(f.size)} bytes`;
  const foundFiles = found.files.map(key);
  const plannedFiles = planned.files.map(key);
  plannedFiles.forEach((p, i) => {
    if (foundFiles[i] !== p) out.push(`file ${i}: ${foundFiles[i] ?? 'missing'} in memory, ${p} planned`);
  });
  if (foundFiles.length > plannedFiles.length) out.push(`${foundFiles.length - plannedFiles.length} more files in memory than planned`);
  const env = (e: {name: string; value: string}): string => `${e.name}=${e.value}`;
  const foundEnv = found.env.map(env);
  const plannedEnv = planned.env.map(env);
  const firstEnv = plannedEnv.findIndex((e, i) => foundEnv[i] !== e);
  if (firstEnv >= 0) out.push(`environment string ${firstEnv}: ${JSON.stringify(foundEnv[firstEnv] ?? null)} in memory, ${JSON.stringify(plannedEnv[firstEnv])} planned`);
  else if (foundEnv.length !== plannedEnv.length) out.push(`${foundEnv.length} environment strings in memory, ${plannedEnv.length} planned`);
  return out;
}

type Decoded = {handoff: Record<string, unknown>; lines: string[]};

/** One decoder per kind of plan: what the new code finds in memory when it starts. */
const DECODERS: Record<PlanDescription['kind'], (plan: PlanDescription, memory: PhysicalMemory) => Decoded> = {
  elf: decodeElfHandoff,
  freebsd: (plan, memory) => {
    const h = plan.handoff;
    if (h.kind !== 'freebsd') throw refuse('handoff-invalid', `a freebsd plan with a ${h.kind} hand-off`);
    const {found, lines} = decodeFreeBsdHandoff(h.metadata, h.physOffset, memory);
    const problems = handoffMismatches(h, found);
    if (problems.length > 0) {
      const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
      throw new KexecError('backend', `sim: boot refused: the hand-off in memory is not the planned one: ${problems[0] ?? ''}${more}`, {
        reason: 'handoff-mismatch', details: {problems},
      });
    }
    return {
      lines,
      handoff: {
        kind: 'freebsd', metadata: hex(found.metadata), kernend: hex(found.kernend), howto: found.howto,
        files: found.files.map((f) => ({name: f.name, type: f.type, addr: hex(f.addr), physical: hex(f.physical), size: hex(f.size), ...(f.args === undefined ? {} : {args: f.args})})),
        env: Object.fromEntries(found.env.map((e) => [e.name, e.value])),
      },
    };
  },
};

export interface BootResult {
  readonly report: BootReport;
  readonly kernel: string;
}

/** Boots the staged generation in a fresh physical memory; throws (exit 5) when any check fails. */
export function bootStaged(store: StateStore, gen: StagedGeneration, machine: Machine): BootResult {
  const plan = store.readPlan(gen);
  if (machine.arch !== 'any' && machine.arch !== plan.arch) {
    throw refuse('arch-mismatch', `the image is for ${plan.arch} but the machine is ${machine.arch}: the CPU would fault at the entry`);
  }
  const memory = new PhysicalMemory(machine.memoryMap);
  plan.segments.forEach((s, i) => copySegment(memory, s, i, store.segmentPath(gen, i)));
  plan.segments.forEach((s, i) => {
    const found = memoryDigest(memory, s);
    if (found !== s.sha256) {
      const file = store.segmentPath(gen, i);
      throw refuse('digest-mismatch', `segment ${i} (${basename(file)}): SHA-256 mismatch: plan.json says ${s.sha256}, memory holds ${found}`, {
        segment: i, file, expected: s.sha256, actual: found,
      });
    }
  });
  const region = memory.regionContaining(plan.entry);
  if (region === undefined) throw refuse('entry-outside', `entry ${hex(plan.entry)} is not in loaded memory`);

  const decoded = DECODERS[plan.kind](plan, memory);
  const kernel = plan.files[0] ?? '(unnamed image)';
  const lines = [
    `backend: sim (${describeMachine(machine)})`,
    `image: ${plan.kind} ${plan.arch}: ${plan.files.join(', ')}`,
    `plan digest verified: ${plan.digest}`,
    `${plan.segments.length} segment${plan.segments.length === 1 ? '' : 's'} verified (SHA-256 of the bytes plus zero fill, read back from physical memory)`,
    `entry ${hex(plan.entry)} in ${region.label} [${hex(region.start)}, ${hex(region.end)})`,
    ...decoded.lines,
  ];
  return {
    kernel,
    report: {backend: 'sim', digest: plan.digest, entry: hex(plan.entry), segmentsVerified: plan.segments.length, handoff: decoded.handoff, lines},
  };
}
