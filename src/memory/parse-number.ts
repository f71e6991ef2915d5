/**
 * Address and size flags: "0x…" hex or decimal, with an optional K/M/G suffix for sizes, parsed exactly as
 * bigint (never through a float). Bad values are usage errors naming the flag and the value.
 */
import {KexecError} from '../errors.js';

const SUFFIX: Record<string, bigint> = {'': 1n, k: 1n << 10n, m: 1n << 20n, g: 1n << 30n};

export function parseBigintFlag(flag: string, raw: string): bigint {
  const m = /^\s*(0x[0-9a-f]+|\d+)\s*([kmg]?)(?:i?b)?\s*$/i.exec(raw);
  if (m === null) {
    throw new KexecError('usage', `${flag} ${JSON.stringify(raw)}: expected a hex (0x…) or decimal number`, {reason: 'bad-number'});
  }
  const value = BigInt((m[1] as string).toLowerCase()) * (SUFFIX[(m[2] ?? '').toLowerCase()] ?? 1n);
  if (value >= 1n << 64n) throw new KexecError('usage', `${flag} ${raw}: does not fit in 64 bits`, {reason: 'bad-number'});
  return value;
}
