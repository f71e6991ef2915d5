/**
 * What a FreeBSD plan promises the new kernel, in the form the probe verdict compares against: modulep and kernend
 * as the trampoline passes them, howto, the environment, and every preloaded file with its recorded (loader)
 * address and size. Physical addresses are recomputed here as recorded + physOffset mod 2^64 rather than taken
 * from the hand-off's `physical` field, so a plan whose fields disagree with each other is caught by the CRC
 * check instead of being trusted. The environment items (root candidates, acpi.rsdp, hints) are what the kernel
 * will make of the planned environment (kernel-env-model.ts).
 */
import {U64_MAX} from '../../memory/range.js';
import type {MemoryRecordSummary} from '../../image/types.js';
import type {PlanDescription} from '../../plan/types.js';
import {hintVariables, kernelQuad, rootCandidates} from './kernel-env-model.js';

export interface PlannedFile {
  readonly name: string;
  readonly type: string;
  /** MODINFO_ADDR as recorded in the metadata (a loader address). */
  readonly addr: bigint;
  readonly size: bigint;
  readonly physical: bigint;
}

export interface PlannedHandoff {
  readonly modulep: bigint;
  readonly kernend: bigint;
  readonly howto: bigint;
  readonly env: ReadonlyMap<string, string>;
  readonly files: readonly PlannedFile[];
  /** vfs.root.mountfrom's candidates (empty when it is not set). */
  readonly root: readonly string[];
  /** acpi.rsdp as the kernel parses it: undefined when not set, null when the kernel ignores it. */
  readonly acpi: bigint | null | undefined;
  readonly hints: readonly (readonly [string, string])[];
  readonly memoryRecord: MemoryRecordSummary;
  readonly fwHandle: bigint | undefined;
}

/** The FreeBSD hand-off of a staged plan, or undefined for plans without one (generic ELF images). */
export function plannedHandoff(plan: PlanDescription): PlannedHandoff | undefined {
  const h = plan.handoff;
  if (h.kind !== 'freebsd') return undefined;
  const env = new Map(h.env.map((e) => [e.name, e.value]));
  const root = env.get('vfs.root.mountfrom');
  const rsdp = env.get('acpi.rsdp');
  return {
    modulep: h.modulep,
    kernend: h.kernend,
    howto: BigInt(h.howto),
    env,
    files: h.files.map((f) => ({name: f.name, type: f.type, addr: f.addr, size: f.size, physical: (f.addr + h.physOffset) & U64_MAX})),
    root: root === undefined ? [] : rootCandidates(root),
    acpi: rsdp === undefined ? undefined : kernelQuad(rsdp),
    hints: hintVariables(env),
    memoryRecord: h.memoryRecord,
    fwHandle: h.fwHandle,
  };
}
