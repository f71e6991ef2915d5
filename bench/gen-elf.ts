/**
 * Writes the benchmark's large input: an ELF64 x86-64 ET_EXEC with `count` PT_LOADs of `loadSize` bytes each,
 * placed from `base` upwards with a `gap` between them (so planning has to merge 64 extents into at most 16
 * segments, and the merged segments carry zero fill). Contents are AES-128-CTR keystream under a fixed key: as
 * incompressible as random bytes, generated at GB/s, and the same on every machine (so is the plan digest).
 *
 * The file is streamed: header and program headers first, then one chunk of data at a time. It is reused when a
 * file of the right size with the same header already exists.
 */
import {createCipheriv} from 'node:crypto';
import {closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync, writeSync} from 'node:fs';
import {dirname} from 'node:path';

export interface BigElfSpec {
  readonly count: number;
  readonly loadSize: number;
  /** Physical (and virtual) address of the first PT_LOAD. */
  readonly base: bigint;
  /** Bytes between the end of one PT_LOAD and the start of the next. */
  readonly gap: bigint;
}

export const DEFAULT_BIG_ELF: BigElfSpec = {count: 64, loadSize: 4 << 20, base: 0x1000000n, gap: 0x1000n};

const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const DATA_OFFSET = 0x1000;
const CHUNK = 1 << 20;

const PT_LOAD = 1;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;

/** Total file size for a spec: headers, padding to 4 KiB, then the PT_LOAD bytes back to back. */
export function bigElfSize(spec: BigElfSpec): number {
  return DATA_OFFSET + spec.count * spec.loadSize;
}

/** The ELF header and program header table (everything before the data). */
export function bigElfHeaders(spec: BigElfSpec): Buffer {
  if (EHDR_SIZE + spec.count * PHDR_SIZE > DATA_OFFSET) throw new Error(`too many program headers: ${spec.count}`);
  if (spec.loadSize % 0x1000 !== 0 || spec.gap % 0x1000n !== 0n) throw new Error('PT_LOAD size and gap must be 4 KiB multiples');
  const h = Buffer.alloc(DATA_OFFSET);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // \x7fELF, ELFCLASS64, ELFDATA2LSB, EV_CURRENT, ELFOSABI_SYSV
  h.writeUInt16LE(2, 16); // e_type = ET_EXEC
  h.writeUInt16LE(62, 18); // e_machine = EM_X86_64
  h.writeUInt32LE(1, 20); // e_version
  h.writeBigUInt64LE(spec.base + 0x100n, 24); // e_entry: inside the first PT_LOAD
  h.writeBigUInt64LE(BigInt(EHDR_SIZE), 32); // e_phoff
  h.writeBigUInt64LE(0n, 40); // e_shoff: no sections
  h.writeUInt32LE(0, 48); // e_flags
  h.writeUInt16LE(EHDR_SIZE, 52); // e_ehsize
  h.writeUInt16LE(PHDR_SIZE, 54); // e_phentsize
  h.writeUInt16LE(spec.count, 56); // e_phnum
  h.writeUInt16LE(64, 58); // e_shentsize
  h.writeUInt16LE(0, 60); // e_shnum
  h.writeUInt16LE(0, 62); // e_shstrndx
  const size = BigInt(spec.loadSize);
  for (let i = 0; i < spec.count; i++) {
    const at = EHDR_SIZE + i * PHDR_SIZE;
    const addr = spec.base + BigInt(i) * (size + spec.gap);
    h.writeUInt32LE(PT_LOAD, at); // p_type
    h.writeUInt32LE(i === 0 ? PF_R | PF_X : PF_R | PF_W, at + 4); // p_flags
    h.writeBigUInt64LE(BigInt(DATA_OFFSET) + BigInt(i) * size, at + 8); // p_offset
    h.writeBigUInt64LE(addr, at + 16); // p_vaddr
    h.writeBigUInt64LE(addr, at + 24); // p_paddr
    h.writeBigUInt64LE(size, at + 32); // p_filesz
    h.writeBigUInt64LE(size, at + 40); // p_memsz
    h.writeBigUInt64LE(0x1000n, at + 48); // p_align
  }
  return h;
}

function matchesExisting(path: string, headers: Buffer, size: number): boolean {
  if (!existsSync(path) || statSync(path).size !== size) return false;
  const fd = openSync(path, 'r');
  try {
    const have = Buffer.alloc(headers.length);
    return readSync(fd, have, 0, have.length, 0) === have.length && have.equals(headers);
  } finally {
    closeSync(fd);
  }
}

/** Writes (or reuses) the file at `path`; returns true when it was (re)generated. */
export function ensureBigElf(path: string, spec: BigElfSpec = DEFAULT_BIG_ELF): boolean {
  const headers = bigElfHeaders(spec);
  const size = bigElfSize(spec);
  if (matchesExisting(path, headers, size)) return false;
  mkdirSync(dirname(path), {recursive: true});
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, headers);
    const cipher = createCipheriv('aes-128-ctr', Buffer.from('kexec-ts bench 1'), Buffer.alloc(16));
    const zeros = Buffer.alloc(CHUNK);
    for (let left = spec.count * spec.loadSize; left > 0; left -= CHUNK) {
      const chunk: Buffer = cipher.update(left >= CHUNK ? zeros : zeros.subarray(0, left));
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  return true;
}
