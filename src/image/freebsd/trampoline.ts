/**
 * The trampolines the FreeBSD kernel does not supply (kern_kexec.c jumps to `entry` and passes nothing): the
 * assembled bytes and parameter offsets come from templates/trampolines/<arch>.json, generated from the .S
 * source beside it (`npm run trampolines`). Patching writes the parameters into a copy of the bytes.
 */
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {KexecError} from '../../errors.js';

export interface TrampolineTemplate {
  readonly arch: 'amd64' | 'arm64';
  readonly bytes: Uint8Array;
  readonly symbols: Readonly<Record<string, number>>;
}

const TEMPLATE_DIR = new URL('../../../templates/trampolines/', import.meta.url);
const cache = new Map<string, TrampolineTemplate>();

export function loadTrampoline(arch: 'amd64' | 'arm64'): TrampolineTemplate {
  const hit = cache.get(arch);
  if (hit !== undefined) return hit;
  const path = fileURLToPath(new URL(`${arch}.json`, TEMPLATE_DIR));
  let json: {arch?: unknown; bytes?: unknown; symbols?: unknown};
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as typeof json;
  } catch (e) {
    throw new KexecError('internal', `trampoline template ${path} cannot be read: ${(e as Error).message}`, {reason: 'trampoline-missing'});
  }
  if (json.arch !== arch || typeof json.bytes !== 'string' || typeof json.symbols !== 'object' || json.symbols === null) {
    throw new KexecError('internal', `trampoline template ${path} is malformed`, {reason: 'trampoline-malformed'});
  }
  const t: TrampolineTemplate = {arch, bytes: Uint8Array.from(Buffer.from(json.bytes, 'hex')), symbols: json.symbols as Record<string, number>};
  cache.set(arch, t);
  return t;
}

/** The offset of a symbol the trampoline must define; a missing one is a broken template, never offset 0. */
export function trampolineSymbol(t: TrampolineTemplate, name: string): number {
  const at = t.symbols[name];
  if (typeof at !== 'number' || !Number.isInteger(at) || at < 0 || at >= t.bytes.length) {
    throw new KexecError('internal', `trampoline ${t.arch} has no symbol ${name} (templates/trampolines/${t.arch}.json)`, {reason: 'trampoline-malformed'});
  }
  return at;
}

/** A copy of the trampoline with each `param_*` symbol patched (little-endian, width 4 or 8). */
export function patchTrampoline(t: TrampolineTemplate, params: Record<string, {value: bigint; width: 4 | 8}>): Uint8Array {
  const out = t.bytes.slice();
  const dv = new DataView(out.buffer);
  for (const [name, {value, width}] of Object.entries(params)) {
    const at = trampolineSymbol(t, name);
    if (at + width > out.length) {
      throw new KexecError('internal', `trampoline ${t.arch}: parameter ${name} at ${at} runs past its ${out.length} bytes`, {reason: 'trampoline-malformed'});
    }
    if (width === 4) {
      if (value < 0n || value > 0xffffffffn) throw new KexecError('plan', `${name} ${value.toString(16)} does not fit the trampoline's 32-bit slot`, {reason: 'handoff-range'});
      dv.setUint32(at, Number(value), true);
    } else {
      dv.setBigUint64(at, BigInt.asUintN(64, value), true);
    }
  }
  return out;
}
