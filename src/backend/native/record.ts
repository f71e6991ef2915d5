/**
 * The native backend's record of what it staged. FreeBSD keeps the staged image inside the kernel
 * (sys/kern/kern_kexec.c, staged_image) and offers no way to ask whether one is there, so after every successful
 * kexec_load kexec-ts writes `staged.json` in its record directory, atomically (temp file + rename), and removes it
 * on unload. The record is what status() reports and what exec() checks before reboot(RB_KEXEC).
 */
import {readFile, rm} from 'node:fs/promises';
import {join} from 'node:path';
import {KexecError} from '../../errors.js';
import {errnoCode as errCode} from '../../io/read-input.js';
import {assertTrusted} from '../../io/trust.js';
import {writeFileAtomic} from '../staging/durable-fs.js';
import {prepareStateDir} from '../staging/lock.js';
import {parseStagedRecord} from '../staging/staged-record.js';
import type {StagedRecord} from '../types.js';

const RECORD_FILE = 'staged.json';

function recordPath(dir: string): string {
  return join(dir, RECORD_FILE);
}

/** The record, or null when there is none. A corrupt record is an error naming the file. */
export async function readRecord(dir: string): Promise<StagedRecord | null> {
  const path = recordPath(dir);
  assertTrusted(dir, {what: 'backend native: record directory', kind: 'dir'});
  let text: string;
  try {
    assertTrusted(path, {what: 'backend native: record', kind: 'file'});
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (errCode(e) === 'ENOENT') return null;
    throw new KexecError('backend', `backend native: cannot read the staged-image record ${path}: ${errCode(e) ?? String(e)}`, {
      reason: 'record-unreadable',
      cause: e,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    parsed = e;
  }
  return parseStagedRecord(parsed, 'native', (what) => new KexecError('backend', `backend native: the staged-image record ${path} is not a kexec-ts native record: ${what}`, {
    reason: 'record-corrupt',
    hint: `run \`kexec-ts unload\` (which clears the kernel's staged image and this record), or remove ${path}`,
  }));
}

/**
 * Writes the record atomically (an exclusive 0600 temp file, fsync, rename over staged.json) in a trusted
 * directory created 0700 whatever the umask.
 */
export async function writeRecord(dir: string, record: StagedRecord): Promise<void> {
  const path = recordPath(dir);
  try {
    prepareStateDir(dir);
    writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`);
  } catch (e) {
    throw new KexecError('backend', `backend native: the image IS staged in the kernel, but the record ${path} could not be written: ${errCode(e) ?? String(e)}`, {
      reason: 'record-unwritable',
      hint: 'exec refuses without a record (use --force to exec anyway), or run `kexec-ts unload` to drop the image',
      cause: e,
    });
  }
}

export async function removeRecord(dir: string): Promise<void> {
  assertTrusted(dir, {what: 'backend native: record directory', kind: 'dir'});
  await rm(recordPath(dir), {force: true});
}
