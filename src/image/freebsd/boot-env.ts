/**
 * The kernel environment and howto flags, as the loader computes them:
 *   sys/kern/subr_boot.c boot_parse_arg: a word starting with '-' is a run of flag letters (unknown letters are
 *     ignored; 'S' takes the rest of the word as comconsole_speed and ends it); any other word is NAME=VALUE (or
 *     NAME, set to "1"). boot_env_to_howto: boot_* variables set unless their value is "no" (any case).
 *     boot_howto_to_env: flags given on the command line are exported as boot_*="YES". RB_PROBE has no boot_*
 *     name, so it reaches the kernel only through MODINFOMD_HOWTO.
 *   stand/efi/loader/bootinfo.c bi_getboothowto: console=comconsole adds RB_SERIAL, console=nullconsole RB_MUTE.
 *   stand/common/interp_parse.c parse(): the Lua loader runs `load KERNEL kernel_options` through it, so the
 *     kernel's arguments are at most MAXARGS (20) words including "load" and the path, each under PARSE_BUFSIZE
 *     (1024) bytes; longer option strings make the loader's load fail, so kexec-ts refuses them.
 *   stand/common/modinfo.c md_copyenv: "name=value\0" for each variable, then one more "\0". The bytes are the
 *     variable's bytes as given (UTF-8 here); the loader keeps its environment sorted by name (environment.c).
 */
import {KexecError} from '../../errors.js';
import {RB} from './constants.js';

const LETTERS: Readonly<Record<string, number>> = {
  a: RB.ASKNAME, C: RB.CDROM, d: RB.KDB, D: RB.MULTIPLE, m: RB.MUTE, g: RB.GDB, h: RB.SERIAL, p: RB.PAUSE, P: RB.PROBE,
  r: RB.DFLTROOT, s: RB.SINGLE, v: RB.VERBOSE,
};

const HOWTO_ENV: readonly (readonly [string, number])[] = [
  ['boot_askname', RB.ASKNAME], ['boot_cdrom', RB.CDROM], ['boot_ddb', RB.KDB], ['boot_dfltroot', RB.DFLTROOT],
  ['boot_gdb', RB.GDB], ['boot_multicons', RB.MULTIPLE], ['boot_mute', RB.MUTE], ['boot_pause', RB.PAUSE],
  ['boot_serial', RB.SERIAL], ['boot_single', RB.SINGLE], ['boot_verbose', RB.VERBOSE],
];

/** interp_parse.c: MAXARGS elements in one command, PARSE_BUFSIZE bytes per element (with its NUL). */
const LOADER_MAXARGS = 20;
const LOADER_PARSE_BUFSIZE = 1024;

export interface BootArgs {
  readonly howto: number;
  /** Variables the words set, in order (comconsole_speed from -S, NAME=VALUE words). */
  readonly env: readonly (readonly [string, string])[];
  /** Flag letters boot_parse_arg ignores, for a note. */
  readonly ignored: readonly string[];
}

/** boot_parse_arg for one word. */
function parseWord(word: string, out: {howto: number; env: [string, string][]; ignored: string[]}): void {
  if (word.startsWith('-')) {
    for (let i = 1; i < word.length; i++) {
      const ch = word[i] as string;
      if (ch === 'S') {
        out.env.push(['comconsole_speed', word.slice(i + 1)]);
        return;
      }
      const flag = LETTERS[ch];
      if (flag === undefined) out.ignored.push(ch);
      else out.howto |= flag;
    }
    return;
  }
  const eq = word.indexOf('=');
  out.env.push(eq < 0 ? [word, '1'] : [word.slice(0, eq), word.slice(eq + 1)]);
}

/** boot_parse_cmdline: words separated by space, tab or newline. */
export function parseBootArgs(args: string): BootArgs {
  const out = {howto: 0, env: [] as [string, string][], ignored: [] as string[]};
  for (const word of args.split(/[ \t\n]+/)) if (word !== '') parseWord(word, out);
  return out;
}

/** The loader's limits on kernel_options (see the header); `where` names the source in the error. */
export function checkKernelArgs(args: string, where: string): void {
  const words = args.split(/[ \t\n]+/).filter((w) => w !== '');
  if (words.length > LOADER_MAXARGS - 2) {
    throw new KexecError('usage', `${where}: ${words.length} words; the loader's parse() takes at most ${LOADER_MAXARGS} per command, so \`load KERNEL\` leaves room for ${LOADER_MAXARGS - 2}`, {
      reason: 'kernel-args-too-long', hint: 'stand/common/interp_parse.c MAXARGS: a real loader would fail to load this kernel',
    });
  }
  const long = words.find((w) => Buffer.byteLength(w, 'utf8') >= LOADER_PARSE_BUFSIZE);
  if (long !== undefined) {
    throw new KexecError('usage', `${where}: the word "${long.slice(0, 24)}..." is ${Buffer.byteLength(long, 'utf8')} bytes; the loader's parse() keeps at most ${LOADER_PARSE_BUFSIZE - 1}`, {
      reason: 'kernel-args-too-long', hint: 'stand/common/interp_parse.c PARSE_BUFSIZE: a real loader would fail to load this kernel',
    });
  }
}

/** --howto "-s -v" (the user's flags): parsed like kernel arguments, but only dash words are allowed. */
export function parseHowtoFlag(value: string): BootArgs {
  const words = value.split(/[ \t\n]+/).filter((w) => w !== '');
  const bad = words.find((w) => !w.startsWith('-'));
  const parsed = parseBootArgs(value);
  const unknown = bad ?? (parsed.ignored.length > 0 ? `-${parsed.ignored[0] ?? ''}` : undefined);
  if (unknown !== undefined) {
    throw new KexecError('usage', `--howto ${JSON.stringify(value)}: unknown flag ${JSON.stringify(unknown)} (known: ${Object.keys(LETTERS).map((l) => `-${l}`).join(' ')} -S<speed>)`, {reason: 'bad-howto'});
  }
  return parsed;
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

/** boot_howto_to_env: the boot_* variables a howto implies (set to "YES"). */
export function howtoToEnv(howto: number): [string, string][] {
  return HOWTO_ENV.filter(([, flag]) => (howto & flag) !== 0).map(([name]) => [name, 'YES']);
}

/** sys/kern/kern_environment.c: the kernel keeps at most KENV_SIZE environment strings (see boot-environment.ts). */
export const KENV_SIZE = 512;

/**
 * What no environment string may be, whatever the kernel's limits (stand/common/modinfo.c md_copyenv writes
 * "name=value\0"): a name that is empty or holds "=" or NUL, a value holding NUL. The kernel's size limits, which
 * depend on the kenv_mvallen tunable, are checked on the whole environment (boot-environment.ts, exit 4).
 */
export function checkEnvVariable(name: string, value: string, where: string): void {
  if (name === '' || name.includes('=') || name.includes('\0')) {
    throw new KexecError('usage', `${where}: environment variable name ${JSON.stringify(name)} must be non-empty, without "=" or NUL`, {reason: 'bad-env'});
  }
  if (value.includes('\0')) {
    throw new KexecError('usage', `${where}: environment variable ${name}: the value contains a NUL byte, which would end the kernel's string early`, {reason: 'bad-env'});
  }
}

/** Names in the loader's order: byte-wise (strcmp) over their UTF-8 encoding. */
export function sortEnvNames(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/** md_copyenv: "name=value\0"... "\0", each string as its UTF-8 bytes, names sorted byte-wise. */
export function encodeEnvironment(env: ReadonlyMap<string, string>): Uint8Array {
  if (env.size > KENV_SIZE) {
    throw new KexecError('plan', `environment: ${env.size} variables; the kernel keeps at most KENV_SIZE (${KENV_SIZE}) and ignores the rest`, {
      reason: 'kenv-too-many', hint: 'sys/kern/kern_environment.c init_dynamic_kenv_from: pass fewer variables (--env, --env-file, loader.conf, config env)',
    });
  }
  const names = sortEnvNames(env.keys());
  for (const n of names) checkEnvVariable(n, env.get(n) ?? '', 'environment');
  return Uint8Array.from(Buffer.from(`${names.map((n) => `${n}=${env.get(n) ?? ''}\0`).join('')}\0`, 'utf8'));
}
