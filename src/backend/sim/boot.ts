/**
 * The simulated machine's exec: what kexec_reboot_md does (copy every staged segment to its physical address,
 * zero-fill to memsz, jump to the entry), plus the checks a real machine cannot make afterwards: every segment's
 * SHA-256 (file bytes + zero fill, read back from physical memory) and the plan digest are verified against
 * plan.json, the entry must lie in loaded memory, and the hand-off is decoded into a readable boot report.
 */
import {closeSync, fstatSync, openSync, readSync} from 'node:fs';
import {createHash} from 'node:crypto';
import {basename} from 'node:path';
import {KexecError, hex} from '../../errors.js';
import type {PlanJSON} from '../../plan/plan-json.js';
import type {BootReport} from '../types.js';
import {handoffDecoder, registeredHandoffKinds} from './handoff-decoders.js';
import {decodeElfHandoff} from './elf-handoff.js';
import type {Machine} from './machine.js';
import {PhysicalMemory} from './physical-memory.js';
import {planDigestFromJSON} from './staged-plan.js';
import type {StagedGeneration, StateStore} from './state-store.js';

const CHUNK = 1 << 20;

function refuse(reason: string, message: string, details: Record<string, unknown> = {}): KexecError {
  return new KexecError('backend', `sim: exec: ${message}`, {
    reason,
    details,
    hint: 'the staged image no longer matches what was loaded: load it again',
  });
}

type SegmentJSON = PlanJSON['segments'][number];

/** Copies segment-NN.bin (exactly bufsz bytes) to its physical address and zero-fills up to memsz. */
function copySegment(memory: PhysicalMemory, s: SegmentJSON, path: string): void {
  const mem = BigInt(s.mem);
  const bufsz = BigInt(s.bufsz);
  const memsz = BigInt(s.memsz);
  const name = `segment ${s.index} (${basename(path)})`;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw refuse('segment-missing', `${name}: cannot open ${path} (${(e as NodeJS.ErrnoException).code ?? 'error'})`, {segment: s.index});
  }
  try {
    const size = BigInt(fstatSync(fd).size);
    if (size !== bufsz) {
      throw refuse('digest-mismatch', `${name}: is ${hex(size)} bytes, plan.json says bufsz ${hex(bufsz)}`, {segment: s.index, file: path});
    }
    const buf = new Uint8Array(CHUNK);
    let at = 0n;
    while (at < bufsz) {
      const n = readSync(fd, buf, 0, Number(bufsz - at > BigInt(CHUNK) ? BigInt(CHUNK) : bufsz - at), null);
      if (n === 0) throw refuse('digest-mismatch', `${name}: ends early at ${hex(at)}`, {segment: s.index, file: path});
      memory.write(mem + at, buf.subarray(0, n));
      at += BigInt(n);
    }
  } finally {
    closeSync(fd);
  }
  memory.zero(mem + bufsz, memsz - bufsz);
  memory.addRegion({start: mem, end: mem + memsz, label: `segment ${s.index}`});
}

/** SHA-256 of [mem, mem+memsz) as the new kernel would find it. */
function memoryDigest(memory: PhysicalMemory, s: SegmentJSON): string {
  const h = createHash('sha256');
  const mem = BigInt(s.mem);
  const memsz = BigInt(s.memsz);
  for (let at = 0n; at < memsz; at += BigInt(CHUNK)) {
    const n = memsz - at > BigInt(CHUNK) ? CHUNK : Number(memsz - at);
    h.update(memory.read(mem + at, n));
  }
  return h.digest('hex');
}

function describeMachine(m: Machine): string {
  const profile = m.profile !== null && m.memoryMap.source !== `profile ${m.profile}` ? `profile ${m.profile}, ` : '';
  return `${profile}${m.memoryMap.source}, arch ${m.arch}, page size ${hex(m.pageSize)}`;
}

export interface BootResult {
  readonly report: BootReport;
  readonly kernel: string;
}

/** Boots the staged generation in a fresh physical memory; throws (exit 5) when any check fails. */
export function bootStaged(store: StateStore, gen: StagedGeneration, machine: Machine): BootResult {
  const plan = store.readPlan(gen);
  const digest = planDigestFromJSON(plan);
  if (digest !== plan.digest) {
    throw refuse('plan-digest-mismatch', `plan digest mismatch: plan.json says ${plan.digest}, its fields give ${digest}`);
  }
  if (digest !== gen.record.digest) {
    throw refuse('plan-digest-mismatch', `plan digest mismatch: record.json says ${gen.record.digest}, plan.json gives ${digest}`);
  }
  if (machine.arch !== 'any' && machine.arch !== plan.arch) {
    throw refuse('arch-mismatch', `the image is for ${plan.arch} but the machine is ${machine.arch}: the CPU would fault at the entry`);
  }
  const memory = new PhysicalMemory(machine.memoryMap);
  plan.segments.forEach((s, i) => copySegment(memory, s, store.segmentPath(gen, i)));
  plan.segments.forEach((s, i) => {
    const found = memoryDigest(memory, s);
    if (found !== s.sha256) {
      const file = store.segmentPath(gen, i);
      throw refuse('digest-mismatch', `segment ${i} (${basename(file)}): SHA-256 mismatch: plan.json says ${s.sha256}, memory holds ${found}`, {
        segment: i, file, expected: s.sha256, actual: found,
      });
    }
  });
  const entry = BigInt(plan.entry);
  const region = memory.regionContaining(entry);
  if (region === undefined) throw refuse('entry-outside', `entry ${plan.entry} is not in loaded memory`);

  const decode = handoffDecoder(plan.kind);
  const decoded = decode !== undefined ? decode(plan, memory) : decodeElfHandoff(plan, memory);
  const decoderLines = decode !== undefined ? decoded.lines : [
    `no hand-off decoder for kind '${plan.kind}' (registered: ${registeredHandoffKinds().join(', ')}); generic view:`,
    ...decoded.lines.map((l) => `  ${l}`),
  ];
  const kernel = plan.files[0] ?? '(unnamed image)';
  const lines = [
    `backend: sim (${describeMachine(machine)})`,
    `image: ${plan.kind} ${plan.arch}: ${plan.files.join(', ')}`,
    `plan digest verified: ${digest}`,
    `${plan.segments.length} segment${plan.segments.length === 1 ? '' : 's'} verified (SHA-256 of the bytes plus zero fill, read back from physical memory)`,
    `entry ${plan.entry} in ${region.label} [${hex(region.start)}, ${hex(region.end)})`,
    ...decoderLines,
  ];
  const handoff = decode !== undefined ? decoded.handoff : {kind: plan.kind, decoded: false, generic: decoded.handoff};
  return {
    kernel,
    report: {backend: 'sim', digest, entry: plan.entry, segmentsVerified: plan.segments.length, handoff, lines},
  };
}
