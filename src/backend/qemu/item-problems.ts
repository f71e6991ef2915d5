/**
 * The hand-off items the probe reports besides files and environment (examples/probe-kernel/README.md: ROOT, ACPI,
 * HINT, MEMMAP, FW_HANDLE) against what the plan promises (planned-handoff.ts): each line must be there exactly when
 * the plan passes the item, with the value the kernel would read. The memory map's CRC-32 is not compared here (the
 * plan keeps the record's size and entry count, not its bytes); tests compare it with the bytes they gave.
 */
import {hex} from '../../errors.js';
import type {ProbeTranscript} from './console-protocol.js';
import type {PlannedHandoff} from './planned-handoff.js';

const show = (v: bigint | null | undefined): string => (v === undefined ? 'nothing' : v === null ? 'invalid' : hex(v));

function listProblems(what: string, got: readonly string[], want: readonly string[]): string[] {
  if (got.length === want.length && got.every((g, i) => g === want[i])) return [];
  return [`${what}: the probe found ${JSON.stringify(got)}, the plan passes ${JSON.stringify(want)}`];
}

export function itemProblems(h: PlannedHandoff, t: ProbeTranscript): string[] {
  const problems = [
    ...listProblems('ROOT (vfs.root.mountfrom candidates)', t.root, h.root),
    ...listProblems('HINT', t.hints.map(([k, v]) => `${k}=${v}`), h.hints.map(([k, v]) => `${k}=${v}`)),
  ];
  if (t.acpi !== h.acpi) problems.push(`ACPI: the probe found rsdp ${show(t.acpi)}, the plan's acpi.rsdp gives ${show(h.acpi)}`);
  if (t.fwHandle !== h.fwHandle) problems.push(`FW_HANDLE: the probe found ${show(t.fwHandle)}, the plan passes ${show(h.fwHandle)}`);
  const m = t.memmap;
  const r = h.memoryRecord;
  if (m === undefined) {
    problems.push(`the probe reported no MEMMAP line (the plan passes ${r.name}, ${hex(r.size)} bytes)`);
  } else if (m.name !== r.name || m.type !== r.type || m.size !== r.size || m.entries !== r.entries) {
    problems.push(`MEMMAP: the probe found ${m.name} type ${hex(m.type)} size ${hex(m.size)} with ${m.entries} entries, ` +
      `the plan passes ${r.name} type ${hex(r.type)} size ${hex(r.size)} with ${r.entries} entries`);
  }
  return problems;
}
