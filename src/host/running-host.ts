/**
 * HostFacts from the running FreeBSD system: the same commands a person would run to make a host snapshot by hand
 * (snapshot.ts), each by its absolute path, never through PATH (kexec-ts runs as root, and what these print
 * becomes the new kernel's environment and memory map). A command that fails or does not exist leaves its facts
 * out with a note; the hand-off checklist then says what is missing and what that breaks.
 */
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import {KexecError} from '../errors.js';
import {RootFs} from '../io/root-fs.js';
import {BINARY_SYSCTLS, HOST_COMMANDS, TEXT_SYSCTLS, type HostFacts, type SourcedBytes, type SourcedText} from './host-facts.js';
import {parseKenv} from './kenv-text.js';
import {parseUname} from './snapshot.js';
import {parseSysctlText} from './sysctl-text.js';
import {SYSCTL} from './sysctl.js';

const exec = promisify(execFile);

export const KENV = '/bin/kenv';
export const UNAME = '/usr/bin/uname';

/**
 * For tests only: run the commands from under `commandRoot` (STUB/sbin/sysctl for /sbin/sysctl), read files from
 * `root`, and pretend to be on `platform`. Nothing in the CLI sets these.
 */
export interface RunningHostOptions {
  readonly platform?: string;
  readonly commandRoot?: string;
  readonly root?: string;
}

async function output(argv: readonly string[], notes: string[], commandRoot: string): Promise<string | undefined> {
  try {
    const {stdout} = await exec(`${commandRoot}${argv[0] as string}`, argv.slice(1), {encoding: 'utf8', maxBuffer: 16 << 20});
    return stdout;
  } catch (e) {
    notes.push(`\`${argv.join(' ')}\` failed: ${e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)}`);
    return undefined;
  }
}

async function binarySysctl(name: string, commandRoot: string): Promise<Uint8Array | undefined> {
  try {
    const {stdout} = await exec(`${commandRoot}${SYSCTL}`, ['-b', name], {encoding: 'buffer', maxBuffer: 16 << 20});
    return stdout.length > 0 ? new Uint8Array(stdout) : undefined;
  } catch {
    return undefined;
  }
}

/** The running system's facts; only on FreeBSD. */
export async function runningHostFacts(o: RunningHostOptions = {}): Promise<HostFacts> {
  const platform = o.platform ?? process.platform;
  const commandRoot = o.commandRoot ?? '';
  if (platform !== 'freebsd') {
    throw new KexecError('usage', `this is ${platform}, not FreeBSD: there is no running FreeBSD host to read`, {
      reason: 'not-freebsd', hint: 'plan against a host snapshot with --host DIR (made on the host with `kexec-ts host capture DIR`)',
    });
  }
  const notes: string[] = [];
  const kenvText = await output([KENV], notes, commandRoot);
  const kenv = kenvText === undefined ? {vars: [], notes: []} : parseKenv(kenvText, KENV);
  notes.push(...kenv.notes);
  const sysctl = new Map<string, SourcedText>();
  const text = await output([SYSCTL, '-e', '-i', ...TEXT_SYSCTLS], notes, commandRoot);
  if (text !== undefined) for (const [k, v] of parseSysctlText(text, `${SYSCTL} -e`)) sysctl.set(k, {value: v, source: `sysctl ${k}`});
  const binary = new Map<string, SourcedBytes>();
  for (const name of BINARY_SYSCTLS) {
    const bytes = await binarySysctl(name, commandRoot);
    if (bytes !== undefined) binary.set(name, {bytes, source: `sysctl -b ${name}`});
  }
  const commands = new Map<string, SourcedText>();
  for (const [name, argv] of Object.entries(HOST_COMMANDS)) {
    const out = await output(argv, notes, commandRoot);
    if (out !== undefined) commands.set(name, {value: out, source: argv.join(' ')});
  }
  const uname = parseUname(await output([UNAME, '-mr'], notes, commandRoot));
  return {
    source: 'this host', ...uname,
    kenv: kenv.vars, kenvSource: 'kenv', sysctl, binary, root: new RootFs(o.root ?? '/'), commands, notes,
  };
}
