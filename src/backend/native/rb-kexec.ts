/**
 * The numeric value of RB_KEXEC, the reboot(2) howto bit that makes sys/kern/kern_kexec.c's shutdown_final
 * handler (kexec_reboot) jump into the staged image. It was added to sys/sys/reboot.h together with kexec_load and
 * its value is not confirmed from any upstream copy we have, so it is NEVER guessed: it comes from configuration
 * (native.rbKexec) or from the target's own `#define RB_KEXEC <value>` in /usr/include/sys/reboot.h.
 * A wrong value is dangerous (reboot(0) is a plain reboot, other bits halt or power off), so the value must be a
 * single howto bit.
 */
import {readFile} from 'node:fs/promises';
import {KexecError, hex} from '../../errors.js';

export const DEFAULT_REBOOT_HEADER = '/usr/include/sys/reboot.h';

const HINT =
  'set native.rbKexec in the configuration to the RB_KEXEC value of the running kernel (see `#define RB_KEXEC` in its sys/sys/reboot.h), or native.rebootHeader to a reboot.h that defines it';

/** `#define RB_KEXEC 0x1000000`, optionally parenthesised, with U/L suffixes, and a trailing comment. */
const DEFINE = /^[ \t]*#[ \t]*define[ \t]+RB_KEXEC\b(.*)$/m;
const VALUE = /^\s*\(?\s*(0[xX][0-9a-fA-F]+|[1-9][0-9]*|0)[uUlL]*\s*\)?\s*(?:\/\*.*?\*\/\s*|\/\/.*)?$/;

function unknown(message: string, cause?: unknown): KexecError {
  return new KexecError('backend', `backend native: RB_KEXEC is unknown on this system: ${message}`, {
    reason: 'rb-kexec-unknown',
    hint: HINT,
    ...(cause === undefined ? {} : {cause}),
  });
}

/** Checks a candidate RB_KEXEC: one bit of a 32-bit howto. Returns it as the C int reboot() takes. */
export function checkRbKexec(value: number | bigint, source: string): number {
  const v = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value) : -1n;
  if (v <= 0n || v > 0xffffffffn || (v & (v - 1n)) !== 0n) {
    throw new KexecError('usage', `backend native: RB_KEXEC ${typeof value === 'bigint' ? hex(value) : String(value)} from ${source} is not a single reboot(2) howto bit`, {
      reason: 'bad-rb-kexec',
      hint: HINT,
    });
  }
  return Number(BigInt.asIntN(32, v));
}

/** Parses RB_KEXEC out of reboot.h text; undefined when not defined there. `path` names the file in errors. */
export function parseRbKexec(text: string, path: string): number | undefined {
  const m = DEFINE.exec(text);
  if (m === null) return undefined;
  const rest = m[1] ?? '';
  const v = VALUE.exec(rest);
  if (v === null || v[1] === undefined) {
    throw unknown(`${path} defines RB_KEXEC as "${rest.trim()}", which is not a plain number kexec-ts can read`);
  }
  return checkRbKexec(BigInt(v[1]), path);
}

/** RB_KEXEC from the option when given, else from the header; a KexecError('backend') when neither has it. */
export async function resolveRbKexec(option: number | bigint | undefined, header = DEFAULT_REBOOT_HEADER): Promise<number> {
  if (option !== undefined) return checkRbKexec(option, 'native.rbKexec');
  let text: string;
  try {
    text = await readFile(header, 'utf8');
  } catch (e) {
    const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : String(e);
    throw unknown(`cannot read ${header} (${code})`, e);
  }
  const value = parseRbKexec(text, header);
  if (value === undefined) throw unknown(`${header} has no #define RB_KEXEC (does this kernel support kexec?)`);
  return value;
}
