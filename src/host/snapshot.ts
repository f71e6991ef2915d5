/**
 * Host snapshots: a directory holding what a FreeBSD host says about itself, as the plain output of FreeBSD's own
 * commands, so anyone can make one by hand on a host without kexec-ts, plan against it anywhere (--host DIR), and
 * attach it to a bug report:
 *
 *   DIR/kenv               output of `kenv`                          name="value" lines
 *   DIR/sysctl.txt         output of `sysctl -e NAME...`             name=value lines (TEXT_SYSCTLS)
 *   DIR/sysctl/NAME        raw bytes of `sysctl -b NAME`             machdep.efi_map, machdep.smap, hw.fdt.dtb
 *   DIR/uname              output of `uname -mr`                     "15.0-RELEASE amd64"
 *   DIR/commands/NAME      output of the command HOST_COMMANDS[NAME] zpool-get-bootfs, zpool-status, mount-p
 *   DIR/root/              copies of the host files that matter      boot/defaults/loader.conf, boot/loader.conf,
 *                          boot/loader.conf.local, boot/loader.conf.d/, boot/device.hints, boot/nextboot.conf,
 *                          etc/fstab; kernels and modules may be copied too (or found with --root)
 *
 * Every file is optional except DIR itself; what is missing is reported by the hand-off checklist, not guessed.
 * DIR/sysctl/NAME wins over the same name in sysctl.txt (a multi-line value is easier to keep whole there).
 */
import {mkdir, writeFile} from 'node:fs/promises';
import {join} from 'node:path';
import {KexecError} from '../errors.js';
import {INPUT_LIMITS} from '../io/read-input.js';
import {makeDirs} from '../io/make-dirs.js';
import {RootFs} from '../io/root-fs.js';
import {BINARY_SYSCTLS, HOST_COMMANDS, TEXT_SYSCTLS, type HostFacts, type SourcedBytes, type SourcedText} from './host-facts.js';
import {parseKenv} from './kenv-text.js';
import {smapTextToXattr} from './smap-text.js';
import {parseSysctlText} from './sysctl-text.js';

/**
 * DIR/uname: `uname -mr` ("15.0-RELEASE amd64"), or the `uname -a` line people paste ("FreeBSD HOST RELEASE VERSION
 * ... MACHINE": release third, machine last; usr.bin/uname prints the fields in that fixed order).
 */
export function parseUname(text: string | undefined): {release?: string; machine?: string} {
  const lines = (text ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('$'));
  const full = lines.find((l) => l.startsWith('FreeBSD '));
  const f = (full ?? lines[0] ?? '').split(/\s+/);
  if (full !== undefined && f.length >= 4) return {release: f[2] as string, machine: f[f.length - 1] as string};
  return f.length === 2 ? {release: f[0] as string, machine: f[1] as string} : {};
}

/** Reads a host snapshot directory. A missing DIR is a usage error; missing files inside it are not. */
export async function readSnapshot(dir: string): Promise<HostFacts> {
  const root = new RootFs(dir);
  if ((await root.kind('/')) !== 'dir') {
    throw new KexecError('usage', `--host ${dir}: not a host snapshot directory`, {reason: 'bad-host-snapshot', hint: 'make one with `kexec-ts host capture DIR` on the host (README: host snapshots)'});
  }
  const notes: string[] = [];
  const kenvText = await root.readText('/kenv', 'host snapshot file');
  const kenv = kenvText === undefined ? {vars: [], notes: [`${dir}/kenv is missing: no kernel environment of the host`]} : parseKenv(kenvText, join(dir, 'kenv'));
  notes.push(...kenv.notes);

  const sysctl = new Map<string, SourcedText>();
  const sysctlPath = join(dir, 'sysctl.txt');
  const sysctlText = await root.readText('/sysctl.txt', 'host snapshot file');
  if (sysctlText !== undefined) for (const [k, v] of parseSysctlText(sysctlText, sysctlPath)) sysctl.set(k, {value: v, source: sysctlPath});
  const binary = new Map<string, SourcedBytes>();
  for (const name of (await new RootFs(join(dir, 'sysctl')).list('/')) ?? []) {
    const path = join(dir, 'sysctl', name);
    const bytes = await root.readBytes(`/sysctl/${name}`, INPUT_LIMITS.table);
    if (bytes === undefined) continue;
    if (BINARY_SYSCTLS.includes(name)) binary.set(name, {bytes, source: path});
    else sysctl.set(name, {value: Buffer.from(bytes).toString('utf8').replace(/\0+$/, ''), source: path});
  }

  // `sysctl machdep.smap` pasted as text into sysctl.txt stands for the binary form when that is absent.
  const smapText = sysctl.get('machdep.smap');
  if (smapText !== undefined && !binary.has('machdep.smap')) {
    binary.set('machdep.smap', {bytes: smapTextToXattr(smapText.value, smapText.source), source: `${smapText.source} (machdep.smap as text)`});
  }

  const commands = new Map<string, SourcedText>();
  for (const name of Object.keys(HOST_COMMANDS)) {
    const path = join(dir, 'commands', name);
    const text = await root.readText(`/commands/${name}`, 'host snapshot file');
    if (text !== undefined) commands.set(name, {value: text, source: path});
  }
  const uname = parseUname(await root.readText('/uname', 'host snapshot file'));
  return {
    source: `host snapshot ${dir}`,
    ...uname,
    kenv: kenv.vars, kenvSource: join(dir, 'kenv'), sysctl, binary, root: new RootFs(join(dir, 'root')), commands, notes,
  };
}

/** The host files a snapshot copies into DIR/root (paths inside the root). */
export const SNAPSHOT_FILES: readonly string[] = [
  '/boot/defaults/loader.conf', '/boot/loader.conf', '/boot/loader.conf.local', '/boot/device.hints', '/boot/nextboot.conf', '/etc/fstab',
];

/** Writes `facts` as a snapshot in `dir`, which must not exist yet (its parent must). Returns the files written. */
export async function writeSnapshot(facts: HostFacts, dir: string): Promise<string[]> {
  const written: string[] = [];
  const put = async (rel: string, data: string | Uint8Array): Promise<void> => {
    const path = join(dir, rel);
    makeDirs(join(path, '..'), 0o700);
    await writeFile(path, data, {flag: 'wx', mode: 0o600});
    written.push(path);
  };
  await mkdir(dir, {mode: 0o700});
  await put('kenv', facts.kenv.map((v) => `${v.name}="${v.value}"\n`).join(''));
  const text = TEXT_SYSCTLS.filter((n) => facts.sysctl.has(n)).map((n) => `${n}=${facts.sysctl.get(n)?.value ?? ''}\n`).join('');
  await put('sysctl.txt', text);
  for (const [name, b] of facts.binary) await put(join('sysctl', name), b.bytes);
  if (facts.release !== undefined && facts.machine !== undefined) await put('uname', `${facts.release} ${facts.machine}\n`);
  for (const [name, c] of facts.commands) await put(join('commands', name), c.value);
  for (const file of SNAPSHOT_FILES) {
    const bytes = await facts.root.readBytes(file, INPUT_LIMITS.text);
    if (bytes !== undefined) await put(join('root', file), bytes);
  }
  for (const name of (await facts.root.list('/boot/loader.conf.d')) ?? []) {
    const bytes = await facts.root.readBytes(`/boot/loader.conf.d/${name}`, INPUT_LIMITS.text).catch(() => undefined);
    if (bytes !== undefined) await put(join('root/boot/loader.conf.d', name), bytes);
  }
  return written;
}
