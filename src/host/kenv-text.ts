/**
 * The kernel environment as kenv(1) prints it (bin/kenv/kenv.c kdumpenv: `printf("%s=\"%s\"\n", name, value)` for
 * each string of kenv(2) KENV_DUMP, nothing escaped). Read leniently, because dumps are also written by hand or
 * copied from web pages: unquoted values, blank lines and `#` comment lines are accepted, a value whose closing quote
 * is on a later line (a value with a newline in it) is joined, and a name given twice keeps its last value with a
 * note (the kernel itself never holds a name twice: init_dynamic_kenv_from renames duplicates NAME_1, NAME_2).
 */
import {KexecError} from '../errors.js';

export interface KenvVar {
  readonly name: string;
  readonly value: string;
  /** 1-based line of the dump. */
  readonly line: number;
}

export interface ParsedKenv {
  readonly vars: readonly KenvVar[];
  readonly notes: readonly string[];
}

const NAME = /^([^\s=#"][^\s="]*)=(.*)$/;

export function parseKenv(text: string, source: string): ParsedKenv {
  const lines = text.split('\n');
  const byName = new Map<string, KenvVar>();
  const notes: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').replace(/\r$/, '');
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) continue;
    const m = NAME.exec(raw);
    if (m === null) {
      throw new KexecError('usage', `${source}:${i + 1}: not a kenv line (name="value"): ${JSON.stringify(raw.slice(0, 60))}`, {reason: 'bad-kenv'});
    }
    const name = m[1] as string;
    let value = m[2] as string;
    const start = i;
    if (value.startsWith('"')) {
      while (!(value.length >= 2 && value.endsWith('"')) && i + 1 < lines.length) value += `\n${(lines[++i] ?? '').replace(/\r$/, '')}`;
      if (!(value.length >= 2 && value.endsWith('"'))) throw new KexecError('usage', `${source}:${start + 1}: ${name}: the value's closing quote is missing`, {reason: 'bad-kenv'});
      value = value.slice(1, -1);
    }
    if (byName.has(name)) notes.push(`${source}:${start + 1}: ${name} given again; the last value is used`);
    byName.delete(name);
    byName.set(name, {name, value, line: start + 1});
  }
  return {vars: [...byName.values()], notes};
}
