/**
 * Reading sysctls of the running FreeBSD system. sysctl(8) is run by its absolute path, never found through PATH:
 * kexec-ts runs as root and what sysctl prints becomes the new kernel's memory map and hand-off.
 */
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';

const run = promisify(execFile);

export const SYSCTL = '/sbin/sysctl';

/** Reads a binary sysctl (`sysctl -b NAME`); undefined when it does not exist or is empty. */
export type SysctlReader = (name: string) => Promise<Uint8Array | undefined>;

export const readSysctlBinary: SysctlReader = async (name) => {
  try {
    const {stdout} = await run(SYSCTL, ['-b', name], {encoding: 'buffer', maxBuffer: 16 << 20});
    return stdout.length > 0 ? new Uint8Array(stdout) : undefined;
  } catch {
    return undefined;
  }
};

/** A text sysctl's value (`sysctl -n NAME`), trimmed; undefined when it does not exist. */
async function readSysctlText(name: string): Promise<string | undefined> {
  try {
    const {stdout} = await run(SYSCTL, ['-n', name], {encoding: 'utf8', maxBuffer: 16 << 20});
    return stdout.replace(/\n$/, '');
  } catch {
    return undefined;
  }
}

/** Where sysctls are read from: the running system, or (tests, snapshots) something that answers the same way. */
export interface SysctlSource {
  readonly text: (name: string) => Promise<string | undefined>;
  readonly binary: SysctlReader;
}

export const SYSTEM_SYSCTL: SysctlSource = {text: readSysctlText, binary: readSysctlBinary};
