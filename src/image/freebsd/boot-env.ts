/**
 * The kernel environment and howto flags, as the loader computes them:
 *   sys/kern/subr_boot.c boot_parse_arg/boot_parse_cmdline ("-s -v" letters, k=v words become variables),
 *   boot_env_to_howto (boot_single etc.: set unless the value is "no"), console=comconsole/nullconsole,
 *   boot_howto_to_env (flags given on the command line are exported as boot_*="YES");
 *   stand/common/modinfo.c md_copyenv: "name=value\0" for each variable, sorted by strcmp (environment.c keeps
 *   the list sorted), then one more "\0".
 */
import {KexecError} from '../../errors.js';
import {RB} from './constants.js';

const LETTERS: Record<string, number> = {
  a: RB.ASKNAME, C: RB.CDROM, d: RB.KDB, D: RB.MULTIPLE, m: RB.MUTE, g: RB.GDB, h: RB.SERIAL, p: RB.PAUSE, P: RB.PROBE,
  r: RB.DFLTROOT, s: RB.SINGLE, v: RB.VERBOSE,
};

export const HOWTO_ENV: readonly [string, number][] = [
  ['boot_askname', RB.ASKNAME], ['boot_cdrom', RB.CDROM], ['boot_ddb', RB.KDB], ['boot_dfltroot', RB.DFLTROOT],
  ['boot_gdb', RB.GDB], ['boot_multicons', RB.MULTIPLE], ['boot_mute', RB.MUTE], ['boot_pause', RB.PAUSE],
  ['boot_serial', RB.SERIAL], ['boot_single', RB.SINGLE], ['boot_verbose', RB.VERBOSE],
];

/** boot_parse_cmdline: flags from "-sv" words; "k=v" and bare "k" words set variables. */
export function parseBootArgs(args: string, env: Map<string, string>): number {
  let howto = 0;
  for (const word of args.split(/[ \t\n]+/).filter((w) => w !== '')) {
    if (word.startsWith('-')) {
      for (const ch of word.slice(1)) {
        if (ch === 'S') break; // -S<speed> sets comconsole_speed
        howto |= LETTERS[ch] ?? 0;
      }
      const speed = /^-S(\d+)$/.exec(word);
      if (speed) env.set('comconsole_speed', speed[1] as string);
    } else {
      const eq = word.indexOf('=');
      if (eq < 0) env.set(word, '1');
      else env.set(word.slice(0, eq), word.slice(eq + 1));
    }
  }
  return howto;
}

/** --howto "-s -v" (the user's flags): parsed like kernel arguments, but only flags are allowed. */
export function parseHowtoFlag(value: string): number {
  const env = new Map<string, string>();
  const howto = parseBootArgs(value, env);
  const unknown = value.split(/\s+/).filter((w) => w !== '' && (!w.startsWith('-') || [...w.slice(1)].some((c) => !(c in LETTERS))));
  if (unknown.length > 0 || env.size > 0) {
    throw new KexecError('usage', `--howto ${JSON.stringify(value)}: unknown flag ${JSON.stringify(unknown[0] ?? '')} (known: ${Object.keys(LETTERS).map((l) => `-${l}`).join(' ')})`, {reason: 'bad-howto'});
  }
  return howto;
}

export function envToHowto(env: ReadonlyMap<string, string>): number {
  let howto = 0;
  for (const [name, flag] of HOWTO_ENV) {
    const v = env.get(name);
    if (v !== undefined && v.toLowerCase() !== 'no') howto |= flag;
  }
  const console = env.get('console');
  if (console === 'comconsole') howto |= RB.SERIAL;
  if (console === 'nullconsole') howto |= RB.MUTE;
  return howto;
}

export function howtoToEnv(howto: number, env: Map<string, string>): void {
  for (const [name, flag] of HOWTO_ENV) if ((howto & flag) !== 0) env.set(name, 'YES');
}

function strcmp(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

export function encodeEnvironment(env: ReadonlyMap<string, string>): Uint8Array {
  const names = [...env.keys()].sort(strcmp);
  for (const n of names) {
    if (n === '' || n.includes('=') || n.includes('\0') || (env.get(n) ?? '').includes('\0')) {
      throw new KexecError('usage', `environment variable ${JSON.stringify(n)}: names must be non-empty without "=" and values without NUL`, {reason: 'bad-env'});
    }
  }
  const text = `${names.map((n) => `${n}=${env.get(n) ?? ''}\0`).join('')}\0`;
  return Uint8Array.from(Buffer.from(text, 'latin1'));
}
