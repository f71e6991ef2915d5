/**
 * Parsers for configuration values: each one checks a raw value (from a YAML/JSON file or a command-line flag)
 * and turns it into the form the rest of kexec-ts uses (bigint sizes, arrays of module directories, string kernel
 * environment). One parser serves both validation with a file:line message and the merge of flags over config,
 * so the two can never disagree about what a value means.
 */
import {isAbsolute, resolve} from 'node:path';
import {parseBigintFlag} from '../memory/parse-number.js';
import {closest} from './suggest.js';

export interface ParseContext {
  /** Directory that relative paths are resolved against (the config file's); undefined keeps paths as given. */
  readonly baseDir?: string;
}

export interface ParseFailure {
  readonly ok: false;
  /** What the value must be, completing the sentence `"key" must be …`. */
  readonly expected: string;
  /** Path below the key of the offending part (an environment variable name, a list index). */
  readonly at?: readonly string[];
  /** The offending part when it is not the whole value. */
  readonly got?: unknown;
  readonly suggestion?: string;
}

export type Parsed<T> = {readonly ok: true; readonly value: T} | ParseFailure;
export type Parser<T> = (raw: unknown, ctx: ParseContext) => Parsed<T>;

const ok = <T>(value: T): Parsed<T> => ({ok: true, value});
const fail = (expected: string, extra: Omit<ParseFailure, 'ok' | 'expected'> = {}): ParseFailure => ({ok: false, expected, ...extra});

export function isPlainMapping(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw);
}

/** One of a fixed set of names, with a suggestion for a near miss. */
export function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  const expected = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  return (raw) => {
    const found = values.find((v) => v === raw);
    if (found !== undefined) return ok(found);
    const suggestion = typeof raw === 'string' ? closest(raw, values) : undefined;
    return fail(expected, suggestion === undefined ? {} : {suggestion});
  };
}

/** A file or directory path: a non-empty string, resolved against the config file's directory when relative. */
export const pathValue: Parser<string> = (raw, ctx) => {
  if (typeof raw !== 'string' || raw.trim() === '' || raw.includes('\0')) return fail('a non-empty path string');
  return ok(ctx.baseDir === undefined || isAbsolute(raw) ? raw : resolve(ctx.baseDir, raw));
};

export const booleanValue: Parser<boolean> = (raw) => (typeof raw === 'boolean' ? ok(raw) : fail('true or false'));

export function integerValue(min: number, max: number): Parser<number> {
  return (raw) => (Number.isSafeInteger(raw) && typeof raw === 'number' && raw >= min && raw <= max ? ok(raw) : fail(`an integer from ${min} to ${max}`));
}

/** A number, or a string in the grammar of the address flags ("0x4000", "16K"); undefined when neither. */
function toBigint(raw: unknown): bigint | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) && raw >= 0 ? BigInt(raw) : undefined;
  if (typeof raw !== 'string') return undefined;
  try {
    return parseBigintFlag('value', raw);
  } catch {
    return undefined;
  }
}

const isPowerOfTwo = (v: bigint): boolean => v > 0n && (v & (v - 1n)) === 0n;

/** A page size: a power of two of at least 4 KiB. */
export const pageSizeValue: Parser<bigint> = (raw) => {
  const v = toBigint(raw);
  return v !== undefined && isPowerOfTwo(v) && v >= 0x1000n
    ? ok(v)
    : fail('a power of two of at least 4K (a number, or a string like "16K" or "0x4000")');
};

/** One reboot(2) howto bit, such as RB_KEXEC from the target's <sys/reboot.h>. */
export const rebootFlagValue: Parser<bigint> = (raw) => {
  const v = toBigint(raw);
  return v !== undefined && isPowerOfTwo(v) && v < 1n << 32n
    ? ok(v)
    : fail('a single reboot(2) howto bit below 2^32, as in <sys/reboot.h> (a number, or a hex string like "0x1000000")');
};

/**
 * A module search path like loader(8)'s module_path: a ';'-separated string or a list of directories. As the
 * loader does, trailing '/' are trimmed, empty entries and duplicates dropped, order kept.
 */
export const modulePathValue: Parser<string[]> = (raw, ctx) => {
  const expected = 'a ";"-separated string of directories, or a list of directory strings';
  let entries: string[];
  if (typeof raw === 'string') {
    entries = raw.split(';');
  } else if (Array.isArray(raw)) {
    entries = [];
    for (const [i, item] of raw.entries()) {
      if (typeof item !== 'string' || item.includes(';') || item.trim() === '') {
        return fail('a list of non-empty directory strings without ";"', {at: [String(i)], got: item});
      }
      entries.push(item);
    }
  } else {
    return fail(expected);
  }
  const dirs: string[] = [];
  for (const entry of entries) {
    const trimmed = entry.trim().replace(/(?<=.)\/+$/, '');
    if (trimmed === '') continue;
    const dir = ctx.baseDir === undefined || isAbsolute(trimmed) ? trimmed : resolve(ctx.baseDir, trimmed);
    if (!dirs.includes(dir)) dirs.push(dir);
  }
  return dirs.length > 0 ? ok(dirs) : fail(expected);
};

/**
 * Kernel environment variables (what loader.conf sets with name="value"): names without '=', blanks or NUL;
 * values are strings, numbers or booleans, passed to the kernel as strings (true → "1", false → "0").
 */
export const kenvValue: Parser<Record<string, string>> = (raw) => {
  if (raw === null) return ok({});
  if (!isPlainMapping(raw)) return fail('a mapping of variable names to strings, numbers or booleans');
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (name === '' || /[=\s\0]/.test(name)) {
      return fail('a mapping whose variable names are non-empty and contain no "=", blanks or NUL', {at: [name], got: name});
    }
    let text: string;
    if (typeof value === 'string') text = value;
    else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
    else if (typeof value === 'boolean') text = value ? '1' : '0';
    else return fail('a string, number or boolean', {at: [name], got: value});
    if (text.includes('\0')) return fail('a string without NUL characters', {at: [name], got: value});
    Object.defineProperty(env, name, {value: text, enumerable: true, writable: true, configurable: true});
  }
  return ok(env);
};
