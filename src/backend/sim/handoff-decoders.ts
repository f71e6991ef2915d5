/**
 * Hand-off decoders: what the new kernel finds in memory when it starts, per kind of image. The simulated
 * machine's exec looks the plan's kind up here after the segments are in memory and verified. Decoders are
 * pluggable so that a kind's decoder lives with the code that understands it (the FreeBSD preload metadata
 * walker registers 'freebsd'); the generic 'elf' decoder is built in. A kind with no decoder is reported, not
 * refused: the machine still boots, the report just cannot say what the kernel was handed.
 */
import type {PlanJSON} from '../../plan/plan-json.js';
import {decodeElfHandoff} from './elf-handoff.js';
import {decodeFreeBsdHandoff} from './freebsd-handoff.js';
import type {PhysicalMemory} from './physical-memory.js';

export interface DecodedHandoff {
  /** Plain, JSON-ready description (goes into BootReport.handoff). */
  readonly handoff: Record<string, unknown>;
  /** Readable lines for the boot report. */
  readonly lines: string[];
}

export type HandoffDecoder = (plan: PlanJSON, memory: PhysicalMemory) => DecodedHandoff;

const decoders = new Map<string, HandoffDecoder>([['elf', decodeElfHandoff], ['freebsd', decodeFreeBsdHandoff]]);

/** Registers (or replaces) the decoder for a plan kind ('elf', 'freebsd', ...). */
export function registerHandoffDecoder(kind: string, decode: HandoffDecoder): void {
  decoders.set(kind, decode);
}

export function handoffDecoder(kind: string): HandoffDecoder | undefined {
  return decoders.get(kind);
}

export function registeredHandoffKinds(): string[] {
  return [...decoders.keys()].sort();
}
