/**
 * The generic hand-off: an ELF image (or any kind without its own decoder) hands the new code nothing but its
 * entry point and the bytes in memory. The decoder reports the entry, the first bytes there, and each loaded
 * region with what the planner put in it (labels, file and memory sizes), as read back from physical memory.
 */
import {hex} from '../../errors.js';
import type {PlanDescription} from '../../plan/types.js';
import type {PhysicalMemory} from './physical-memory.js';

const ENTRY_BYTES = 16;

function hexBytes(b: Uint8Array): string {
  return Buffer.from(b).toString('hex').replace(/(..)(?=.)/g, '$1 ');
}

export function decodeElfHandoff(plan: PlanDescription, memory: PhysicalMemory): {handoff: Record<string, unknown>; lines: string[]} {
  const entry = plan.entry;
  const region = memory.regionContaining(entry);
  const avail = region === undefined ? 0 : Number(region.end - entry < BigInt(ENTRY_BYTES) ? region.end - entry : BigInt(ENTRY_BYTES));
  const atEntry = avail > 0 ? hexBytes(memory.read(entry, avail)) : '';
  const regions = plan.segments.map((s, index) => ({
    segment: index,
    start: hex(s.mem),
    end: hex(s.mem + s.memsz),
    bufsz: hex(s.bufsz),
    memsz: hex(s.memsz),
    contents: s.contents.map((c) => ({label: c.label, mem: hex(c.mem), filesz: hex(c.filesz), memsz: hex(c.memsz)})),
  }));
  const lines = [`bytes at entry ${hex(entry)}: ${atEntry}`, `${regions.length} loaded region${regions.length === 1 ? '' : 's'}:`];
  for (const r of regions) {
    lines.push(`  [${r.start}, ${r.end}) segment ${r.segment}: ${r.bufsz} bytes of data, ${r.memsz} in memory`);
    for (const c of r.contents) lines.push(`    ${c.mem}  ${c.label} (file ${c.filesz}, memory ${c.memsz})`);
  }
  return {handoff: {kind: 'elf', entry: hex(entry), entryBytes: atEntry, regions}, lines};
}
