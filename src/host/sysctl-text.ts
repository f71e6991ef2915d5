/**
 * Text sysctl values as `sysctl -e` prints them (sbin/sysctl/sysctl.c: "name=value" with -e): one `name=value` per
 * line; a value that spans several lines (vm.phys_segs, for one) continues on the lines that do not start a new
 * `name=`. Also the plain `sysctl name` form ("name: value"), which people paste as often.
 */
import {KexecError} from '../errors.js';

/** A sysctl name: dot-separated components of letters, digits, '_', '-' and '%' (kern.features.*, dev.%parent). */
const START = /^([A-Za-z_][A-Za-z0-9_%.-]*)(=|: ?)(.*)$/;

export function parseSysctlText(text: string, source: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const m = START.exec(line);
    if (m !== null && (m[2] === '=' || (m[1] ?? '').includes('.'))) {
      current = m[1] as string;
      out.set(current, m[3] as string);
      return;
    }
    // Only a value whose first line is empty continues: sysctl(8) prints multi-line values (vm.phys_segs,
    // machdep.smap) starting with a newline, so a stray line after "hw.machine=amd64" is an error, not a value.
    const multiLine = current !== undefined && (out.get(current) ?? '').split('\n')[0] === '';
    if (!multiLine) {
      if (line.trim() === '') return;
      throw new KexecError('usage', `${source}:${i + 1}: not a sysctl line (name=value): ${JSON.stringify(line.slice(0, 60))}`, {reason: 'bad-sysctl'});
    }
    out.set(current as string, `${out.get(current as string) ?? ''}\n${line}`);
  });
  for (const [k, v] of out) out.set(k, v.replace(/\n+$/, ''));
  return out;
}
