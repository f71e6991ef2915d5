/**
 * The root file system as the loader finds it in /etc/fstab (stand/common/boot.c getrootmount): lines are read up
 * to 127 bytes (fgetstr into a 128-byte buffer); a line whose first byte is NUL or '#' is skipped; the first line
 * whose second field is exactly "/" and that has a type and an options field gives vfs.root.mountfrom
 * "<fstype>:<device>" and vfs.root.mountfrom.options "<options>". Misformatted lines are skipped, as there.
 */

export interface FstabRoot {
  readonly mountfrom: string;
  readonly options: string;
  readonly device: string;
  readonly fstype: string;
  /** 1-based line of /etc/fstab. */
  readonly line: number;
}

const SPACE = /[ \t\n\v\f\r]/;

function token(s: string, at: number): {text: string; next: number} | undefined {
  let i = at;
  while (i < s.length && SPACE.test(s[i] as string)) i++;
  if (i >= s.length) return undefined;
  const start = i;
  while (i < s.length && !SPACE.test(s[i] as string)) i++;
  return {text: s.slice(start, i), next: i};
}

export function rootFromFstab(text: string): FstabRoot | undefined {
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] ?? '').slice(0, 127);
    if (line === '' || line.startsWith('#')) continue;
    // The device is everything up to the first blank; a line with no blank is misformatted.
    let i = 0;
    while (i < line.length && !SPACE.test(line[i] as string)) i++;
    if (i >= line.length) continue;
    const device = line.slice(0, i);
    const mount = token(line, i);
    if (mount === undefined || mount.text !== '/') continue;
    const fstype = token(line, mount.next);
    if (fstype === undefined) continue;
    const options = token(line, fstype.next);
    if (options === undefined) continue;
    return {mountfrom: `${fstype.text}:${device}`, options: options.text, device, fstype: fstype.text, line: n + 1};
  }
  return undefined;
}
