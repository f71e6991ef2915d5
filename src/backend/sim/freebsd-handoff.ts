/**
 * The simulated machine's view of a FreeBSD hand-off: it walks the preload metadata the way the new kernel does
 * (sys/kern/subr_module.c preload_search_info: {u32 type, u32 size, data} records advanced by
 * roundup(8 + size, 8), a file starting at each MODINFO_NAME, ending at MODINFO_END), starting from the plan's
 * handoff.metadata in the rebuilt physical memory, and reads the environment at MODINFOMD_ENVP. It is written
 * apart from src/image/freebsd (which encodes the block) so that a mistake in one is caught by the other; it
 * checks what the kernel relies on and refuses the boot (exit 5) when something is missing or out of place.
 */
import {KexecError, hex} from '../../errors.js';
import type {PlanJSON} from '../../plan/plan-json.js';
import type {DecodedHandoff} from './handoff-decoders.js';
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
const U64 = (1n << 64n) - 1n;

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

function str(data: Uint8Array): string {
  const nul = data.indexOf(0);
  return Buffer.from(nul < 0 ? data : data.subarray(0, nul)).toString('latin1');
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

export function decodeFreeBsdHandoff(plan: PlanJSON, memory: PhysicalMemory): DecodedHandoff {
  const h = plan.handoff ?? {};
  const metadata = typeof h.metadata === 'string' ? BigInt(h.metadata) : undefined;
  const physOffset = typeof h.physOffset === 'string' ? BigInt(h.physOffset) : undefined;
  if (metadata === undefined || physOffset === undefined) throw fail('the plan has no handoff.metadata/physOffset');
  const phys = (recorded: bigint): bigint => (recorded + physOffset) & U64;
  const files = walk(memory, metadata);
  const kernel = files[0];
  if (kernel === undefined || (kernel.type !== 'elf kernel' && kernel.type !== 'elf64 kernel')) {
    throw fail(`the first file in the metadata is ${kernel === undefined ? 'missing' : `"${kernel.type ?? '?'}"`}, not the "elf kernel" the kernel looks for`);
  }
  const howtoData = kernel.records.get(MD_HOWTO);
  const howto = howtoData === undefined ? undefined : new DataView(howtoData.buffer, howtoData.byteOffset, 4).getUint32(0, true);
  const envp = u64(kernel.records.get(MD_ENVP));
  const kernend = u64(kernel.records.get(MD_KERNEND));
  if (kernend === undefined || kernend === 0n) throw fail('the kernel has no MODINFOMD_KERNEND record (arm64 ignores the loader without it)');
  const env: Record<string, string> = {};
  if (envp !== undefined) {
    let at = phys(envp);
    for (let i = 0; i < 10000; i++) {
      const s = memory.readCString(at);
      if (s === '') break;
      const eq = s.indexOf('=');
      env[eq < 0 ? s : s.slice(0, eq)] = eq < 0 ? '' : s.slice(eq + 1);
      at += BigInt(Buffer.byteLength(s, 'latin1') + 1);
    }
  }
  const lines = [`FreeBSD hand-off: metadata at ${hex(metadata)} (${files.length} files), kernend ${hex(kernend)}, howto ${hex(howto ?? 0)}`];
  const described = files.map((f) => {
    if (f.addr === undefined || f.size === undefined) throw fail(`file ${f.name} has no MODINFO_ADDR/MODINFO_SIZE`);
    const pa = phys(f.addr);
    if (f.size > 0n && !memory.isRam(pa, f.size)) throw fail(`file ${f.name} at ${hex(pa)} + ${hex(f.size)} is not in loaded memory`);
    if (f.addr + f.size > kernend) throw fail(`file ${f.name} ends at ${hex(f.addr + f.size)}, past kernend ${hex(kernend)}`);
    lines.push(`  ${f.type ?? '?'}  ${f.name}  at ${hex(f.addr)} (physical ${hex(pa)}), ${hex(f.size)} bytes${f.args === undefined ? '' : `, args "${f.args}"`}`);
    return {name: f.name, type: f.type ?? null, addr: hex(f.addr), physical: hex(pa), size: hex(f.size), ...(f.args === undefined ? {} : {args: f.args})};
  });
  lines.push(`  environment (${Object.keys(env).length} variables at ${envp === undefined ? 'none' : hex(envp)}):`);
  for (const [k, v] of Object.entries(env)) lines.push(`    ${k}=${v}`);
  return {handoff: {kind: 'freebsd', metadata: hex(metadata), kernend: hex(kernend), howto: howto ?? null, files: described, env}, lines};
}
