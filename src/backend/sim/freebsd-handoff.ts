/**
 * The simulated machine's view of a FreeBSD hand-off: it walks the preload metadata the way the new kernel does
 * (sys/kern/subr_module.c preload_search_info: {u32 type, u32 size, data} records advanced by
 * roundup(8 + size, 8), a file starting at each MODINFO_NAME, ending at MODINFO_END), starting from the plan's
 * handoff.metadata in the rebuilt physical memory, and reads the environment at MODINFOMD_ENVP as bytes
 * ("name=value\0" strings up to an empty one, sys/kern/kern_environment.c). It is written apart from
 * src/image/freebsd (which encodes the block) so that a mistake in one is caught by the other; it checks what the
 * kernel relies on and refuses the boot (exit 5) when something is missing or out of place. What it found is
 * returned in the hand-off's own types, for boot.ts to compare with what the plan promised.
 */
import {KexecError, hex} from '../../errors.js';
import type {FreeBsdHandoff, HandoffFile, KenvEntry} from '../../image/types.js';
import {U64_MAX} from '../../memory/range.js';
import type {PhysicalMemory} from './physical-memory.js';

const NAME = 1;
const TYPE = 2;
const ADDR = 3;
const SIZE = 4;
const ARGS = 6;
const MD = 0x8000;
const MD_HOWTO = MD | 7;
const MD_ENVP = MD | 6;
const MD_KERNEND = MD | 8;
/** kern_environment.c: KENV_SIZE strings at most, each shorter than a page in practice; a bound for the walk. */
const MAX_ENV_STRINGS = 4096;
const MAX_ENV_STRING = 1 << 16;

export type FoundFile = Pick<HandoffFile, 'name' | 'type' | 'args' | 'addr' | 'size' | 'physical'>;

/** What the kernel finds: the fields of a FreeBSD hand-off that memory alone can tell. */
export type FoundFreeBsdHandoff = Pick<FreeBsdHandoff, 'kind' | 'metadata' | 'kernend' | 'howto' | 'envp' | 'env'> & {
  readonly files: readonly FoundFile[];
};

interface DecodedFile {
  name: string;
  type?: string;
  args?: string;
  addr?: bigint;
  size?: bigint;
  records: Map<number, Uint8Array>;
}

function fail(message: string): KexecError {
  return new KexecError('backend', `sim: boot refused: ${message}`, {reason: 'handoff-invalid'});
}

const utf8 = new TextDecoder('utf-8');

function str(data: Uint8Array): string {
  const nul = data.indexOf(0);
  return utf8.decode(nul < 0 ? data : data.subarray(0, nul));
}

function u64(data: Uint8Array | undefined): bigint | undefined {
  if (data === undefined || data.length < 8) return undefined;
  return new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true);
}

function walk(memory: PhysicalMemory, start: bigint): DecodedFile[] {
  const files: DecodedFile[] = [];
  let at = start;
  for (let n = 0; n < 100000; n++) {
    const type = Number(memory.readUint(at, 4));
    const size = Number(memory.readUint(at + 4n, 4));
    if (type === 0 && size === 0) return files;
    if (size > 1 << 24) throw fail(`metadata record at ${hex(at)} claims ${size} bytes`);
    const data = memory.read(at + 8n, size);
    if (type === NAME) files.push({name: str(data), records: new Map()});
    else {
      const f = files[files.length - 1];
      if (f === undefined) throw fail(`metadata at ${hex(start)} does not start with MODINFO_NAME (type ${hex(type)})`);
      if (type === TYPE) f.type = str(data);
      else if (type === ARGS) f.args = str(data);
      else if (type === ADDR) f.addr = u64(data);
      else if (type === SIZE) f.size = u64(data);
      else f.records.set(type, data);
    }
    at += 8n + BigInt(Math.ceil(size / 8) * 8);
  }
  throw fail(`metadata at ${hex(start)} has no MODINFO_END`);
}

/** The environment at physical `at`: byte strings up to the empty one; each advances by its byte length + 1. */
function readEnvironment(memory: PhysicalMemory, at: bigint): KenvEntry[] {
  const env: KenvEntry[] = [];
  for (let i = 0; i < MAX_ENV_STRINGS; i++) {
    const bytes = memory.readCBytes(at, MAX_ENV_STRING);
    if (bytes.length === 0) return env;
    const s = utf8.decode(bytes);
    const eq = s.indexOf('=');
    env.push(eq < 0 ? {name: s, value: ''} : {name: s.slice(0, eq), value: s.slice(eq + 1)});
    at += BigInt(bytes.length + 1);
  }
  throw fail(`the environment has more than ${MAX_ENV_STRINGS} strings and no terminating empty string`);
}

export function decodeFreeBsdHandoff(metadata: bigint, physOffset: bigint, memory: PhysicalMemory): {found: FoundFreeBsdHandoff; lines: string[]} {
  const phys = (recorded: bigint): bigint => (recorded + physOffset) & U64_MAX;
  const files = walk(memory, metadata);
  const kernel = files[0];
  if (kernel === undefined || (kernel.type !== 'elf kernel' && kernel.type !== 'elf64 kernel')) {
    throw fail(`the first file in the metadata is ${kernel === undefined ? 'missing' : `"${kernel.type ?? '?'}"`}, not the "elf kernel" the kernel looks for`);
  }
  const howtoData = kernel.records.get(MD_HOWTO);
  const howto = howtoData === undefined ? 0 : new DataView(howtoData.buffer, howtoData.byteOffset, 4).getUint32(0, true);
  const envp = u64(kernel.records.get(MD_ENVP));
  const kernend = u64(kernel.records.get(MD_KERNEND));
  if (kernend === undefined || kernend === 0n) throw fail('the kernel has no MODINFOMD_KERNEND record (arm64 ignores the loader without it)');
  const env = envp === undefined ? [] : readEnvironment(memory, phys(envp));
  const lines = [`FreeBSD hand-off: metadata at ${hex(metadata)} (${files.length} files), kernend ${hex(kernend)}, howto ${hex(howto)}`];
  const found = files.map((f): FoundFile => {
    if (f.addr === undefined || f.size === undefined) throw fail(`file ${f.name} has no MODINFO_ADDR/MODINFO_SIZE`);
    const pa = phys(f.addr);
    if (f.size > 0n && !memory.isRam(pa, f.size)) throw fail(`file ${f.name} at ${hex(pa)} + ${hex(f.size)} is not in loaded memory`);
    if (f.addr + f.size > kernend) throw fail(`file ${f.name} ends at ${hex(f.addr + f.size)}, past kernend ${hex(kernend)}`);
    lines.push(`  ${f.type ?? '?'}  ${f.name}  at ${hex(f.addr)} (physical ${hex(pa)}), ${hex(f.size)} bytes${f.args === undefined ? '' : `, args "${f.args}"`}`);
    return {name: f.name, type: f.type ?? '', addr: f.addr, size: f.size, physical: pa, ...(f.args === undefined ? {} : {args: f.args})};
  });
  lines.push(`  environment (${env.length} variables at ${envp === undefined ? 'none' : hex(envp)}):`);
  for (const e of env) lines.push(`    ${e.name}=${e.value}`);
  return {found: {kind: 'freebsd', metadata, kernend, howto, envp: envp ?? 0n, env, files: found}, lines};
}
