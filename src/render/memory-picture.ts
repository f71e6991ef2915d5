/**
 * A memory-map picture for the terminal: one line per range of the map, with the plan's segments drawn where
 * they land (segment index 0-9, a-f), '.' for free RAM and '#' for memory that is not RAM. Each bar is scaled
 * to its own range and a segment always gets at least one cell. When a range's segments occupy a small part
 * of it, a second "zoom" bar scaled to just the segments' span follows, so neighbouring segments stay apart.
 * Fits 80 columns.
 */
import {hex} from '../errors.js';
import type {MemoryMap} from '../memory/memory-map.js';
import {Range} from '../memory/range.js';
import type {Segment} from '../plan/types.js';

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';

type Seg = Pick<Segment, 'mem' | 'memsz'>;

/** Cells of a bar over `span`, each segment drawn with its index ('+' where two share a cell). */
function bar(span: Range, fill: string, segments: readonly Seg[], width: number): string {
  const cells = new Array<string>(width).fill(fill);
  const size = span.size;
  segments.forEach((s, i) => {
    const end = s.mem + s.memsz;
    if (end <= span.start || s.mem >= span.end) return;
    const from = s.mem > span.start ? s.mem : span.start;
    const to = end < span.end ? end : span.end;
    const first = Number(((from - span.start) * BigInt(width)) / size);
    let last = Number(((to - span.start) * BigInt(width) - 1n) / size);
    if (last < first) last = first;
    const mark = DIGITS[i] ?? '*';
    for (let c = first; c <= last && c < width; c++) cells[c] = cells[c] === fill || cells[c] === mark ? mark : '+';
  });
  return cells.join('');
}

export function renderMemoryPicture(map: MemoryMap, segments: readonly Seg[], width = 80): string {
  const rows = map.ranges.map((r) => ({label: `${hex(r.range.start)}-${hex(r.range.end)}`, type: r.type, range: r.range}));
  // A loop, not Math.max(...rows): spreading 200k rows onto the stack overflows it.
  const labelWidth = rows.reduce((w, r) => Math.max(w, r.label.length), 8);
  const typeWidth = rows.reduce((w, r) => Math.max(w, Math.min(r.type.length, 8)), 4);
  const barWidth = Math.max(16, width - labelWidth - typeWidth - 8);
  const lines: string[] = [];
  for (const row of rows) {
    const fill = row.type === 'ram' ? '.' : '#';
    lines.push(`  ${row.label.padStart(labelWidth)} ${row.type.slice(0, 8).padEnd(typeWidth)} |${bar(row.range, fill, segments, barWidth)}|`);
    const inside = segments.filter((s) => s.mem < row.range.end && s.mem + s.memsz > row.range.start);
    if (inside.length === 0) continue;
    const lo = inside.reduce((m, s) => (s.mem < m ? s.mem : m), inside[0]?.mem ?? 0n);
    const hi = inside.reduce((m, s) => (s.mem + s.memsz > m ? s.mem + s.memsz : m), 0n);
    if ((hi - lo) * 4n >= row.range.size) continue;
    const span = new Range(lo, hi);
    const zoom = segments.map((s) => (inside.includes(s) ? s : {mem: 0n, memsz: 0n}));
    lines.push(`  ${`${hex(lo)}-${hex(hi)}`.padStart(labelWidth)} ${'zoom'.padEnd(typeWidth)} |${bar(span, '.', zoom, barWidth)}|`);
  }
  lines.push('  legend: 0-f segment, + several segments, . free RAM, # not RAM');
  return lines.join('\n');
}
