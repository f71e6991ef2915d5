/**
 * nextboot.conf is one-shot: when the loader uses it, stand/lua/config.lua checkNextboot() overwrites the start of
 * its first line with `nextboot_enable="NO" ` (the trailing space covers the longer "YES"; the loader's files
 * cannot be truncated) so the boot after this one is a normal one again. A kexec boot skips the loader, so
 * kexec-ts does the same when it boots a plan that used nextboot.conf, just before the reboot, and only then: a
 * plan that is unloaded leaves the file armed for the next firmware reboot.
 */
import {open} from 'node:fs/promises';
import {constants} from 'node:fs';
import {KexecError} from '../errors.js';
import {errnoCode} from '../io/read-input.js';

const ARMED = 'nextboot_enable="YES"';
const DISARMED = 'nextboot_enable="NO" ';

/** Returns true when the file was armed and is now disarmed; false when there was nothing to do. */
export async function disarmNextboot(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, constants.O_RDWR | constants.O_NOFOLLOW);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT') return false;
    throw new KexecError('backend', `${path}: cannot be opened to disable it after use (${code ?? 'EIO'})`, {reason: 'nextboot-disarm'});
  }
  try {
    const head = Buffer.alloc(ARMED.length);
    const {bytesRead} = await fh.read(head, 0, head.length, 0);
    if (bytesRead < ARMED.length || head.toString('latin1') !== ARMED) return false;
    await fh.write(Buffer.from(DISARMED, 'latin1'), 0, DISARMED.length, 0);
    await fh.sync();
    return true;
  } finally {
    await fh.close();
  }
}
