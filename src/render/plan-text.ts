/**
 * Text form of a plan: summary, segment table (index, mem, memsz, bufsz, sha256 prefix, contents), budget,
 * entry and hand-off, merges, and the memory-map picture.
 */
import {hex} from '../errors.js';
import {KEXEC_SEGMENT_MAX, type Plan} from '../plan/types.js';
import {renderChecklist, renderEnvironment} from './checklist-text.js';
import {renderMemoryPicture} from './memory-picture.js';
import {renderTable} from './table.js';

export function renderPlan(plan: Plan): string {
  const out: string[] = [];
  const more = plan.files.length - 1;
  out.push(`plan for ${plan.files[0] ?? '?'}${more > 0 ? ` + ${more} module${more > 1 ? 's' : ''}` : ''}`);
  out.push(`  ${plan.kind === 'freebsd' ? 'FreeBSD kernel' : 'generic ELF image'}, ${plan.arch}, page size ${hex(plan.pageSize)}, memory map: ${plan.memoryMap.source}`);
  out.push(`  entry ${hex(plan.entry)}`);
  const h = plan.handoff;
  if (h.kind === 'freebsd') {
    out.push(`  hand-off: kernelEntry ${hex(h.kernelEntry)}, loadBase ${hex(h.loadBase)}, modulep ${hex(h.modulep)}, kernend ${hex(h.kernend)}`);
  }
  out.push(`  segments: ${plan.segments.length}/${KEXEC_SEGMENT_MAX}`);
  out.push(
    renderTable(
      [{title: '#', align: 'right'}, {title: 'mem', align: 'right'}, {title: 'memsz', align: 'right'}, {title: 'bufsz', align: 'right'},
        {title: 'sha256'}, {title: 'holds'}],
      plan.segments.map((s, i) => [String(i), hex(s.mem), hex(s.memsz), hex(s.bufsz), s.sha256.slice(0, 12), describeContents(s.contents.map((c) => c.label))]),
      '    ',
    ),
  );
  if (h.kind === 'freebsd') out.push(...renderChecklist(h), ...renderEnvironment(h));
  for (const m of plan.merges) out.push(`  merged: ${m}`);
  for (const n of plan.notes) out.push(`  note: ${n}`);
  out.push('  memory map:');
  out.push(renderMemoryPicture(plan.memoryMap, plan.segments).replace(/^ {2}/gm, '    '));
  out.push(`  digest ${plan.digest}`);
  return out.join('\n');
}

/** "kernel PT_LOAD 0, PT_LOAD 1" style: at most three labels, then a count. */
function describeContents(labels: string[]): string {
  if (labels.length <= 3) return labels.join(', ');
  return `${labels.slice(0, 3).join(', ')} (+${labels.length - 3} more)`;
}
