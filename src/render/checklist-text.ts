/**
 * Text form of the hand-off checklist and of the kernel environment with the source of every variable, for
 * `plan` and `load`: one line per item, missing items with what breaks.
 */
import type {FreeBsdHandoff} from '../image/types.js';

const MARK: Record<string, string> = {present: 'ok     ', fatal: 'FATAL  ', warn: 'missing', info: 'absent '};

export function renderChecklist(h: FreeBsdHandoff): string[] {
  if (h.checklist === undefined) return [];
  const out = ['  hand-off checklist:'];
  for (const c of h.checklist) {
    const mark = c.status === 'present' ? MARK.present : MARK[c.severity];
    const detail = c.status === 'present'
      ? `${c.value === undefined ? '' : `${c.value} `}(${c.source ?? ''})`
      : c.consequence ?? '';
    out.push(`    ${mark} ${c.title}: ${detail}`);
  }
  return out;
}

export function renderEnvironment(h: FreeBsdHandoff): string[] {
  const out = [`  kernel environment (${h.env.length} variables):`];
  for (const e of h.env) out.push(`    ${e.name}=${e.value}${e.source === undefined ? '' : `    [${e.source}]`}`);
  return out;
}
