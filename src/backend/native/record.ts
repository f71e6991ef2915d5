/**
 * The native backend's record of what it staged. FreeBSD keeps the staged image inside the kernel
 * (sys/kern/kern_kexec.c, staged_image) and offers no way to ask whether one is there, so after every successful
 * kexec_load kexec-ts writes `staged.json` in its record directory, atomically (temp file + rename), and removes it
 * on unload. The record is what status() reports and what exec() checks before reboot(RB_KEXEC).
 */
import {mkdir, readFile, rename, rm, writeFile} from 'node:fs/promises';
import {randomBytes} from 'node:crypto';
import {join} from 'node:path';
import {KexecError} from '../../errors.js';
import {errnoCode as errCode} from '../../io/read-input.js';
import {parseStagedRecord} from '../staging/staged-record.js';
import type {StagedRecord} from '../types.js';

const RECORD_FILE = 'staged.json';

function recordPath(dir: string): string {
  return join(dir, RECORD_FILE);
}

/** The record, or null when there is none. A corrupt record is an error naming the file. */
export async function readRecord(dir: string): Promise<StagedRecord | null> {
  const path = recordPath(dir);
  let text: string;
  try {
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

/** Writes the record atomically: a temp file in the same directory, then rename over staged.json. */
export async function writeRecord(dir: string, record: StagedRecord): Promise<void> {
  const path = recordPath(dir);
  const tmp = join(dir, `.${RECORD_FILE}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await mkdir(dir, {recursive: true});
    await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`, {mode: 0o644});
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, {force: true}).catch(() => undefined);
    throw new KexecError('backend', `backend native: the image IS staged in the kernel, but the record ${path} could not be written: ${errCode(e) ?? String(e)}`, {
      reason: 'record-unwritable',
      hint: 'exec refuses without a record (use --force to exec anyway), or run `kexec-ts unload` to drop the image',
      cause: e,
    });
  }
}

export async function removeRecord(dir: string): Promise<void> {
  await rm(recordPath(dir), {force: true});
}
