/**
 * Assembles templates/trampolines/<arch>.S with binutils (x86_64: as --64; arm64: aarch64-linux-gnu-as), and
 * returns the .text bytes and every global symbol's offset. Used by `npm run trampolines` to regenerate the
 * committed <arch>.json, and by the test that checks the committed bytes still match their source.
 */
import {execFileSync} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

export const TRAMPOLINE_ARCHES = ['amd64', 'arm64'] as const;
export type TrampolineArch = (typeof TRAMPOLINE_ARCHES)[number];

const TOOLS: Record<TrampolineArch, {as: string[]; asArgs: string[]; objcopy: string[]; nm: string[]}> = {
  amd64: {as: ['x86_64-linux-gnu-as', 'as'], asArgs: ['--64'], objcopy: ['x86_64-linux-gnu-objcopy', 'objcopy'], nm: ['x86_64-linux-gnu-nm', 'nm']},
  arm64: {as: ['aarch64-linux-gnu-as'], asArgs: [], objcopy: ['aarch64-linux-gnu-objcopy'], nm: ['aarch64-linux-gnu-nm']},
};

function which(candidates: string[]): string | undefined {
  for (const c of candidates) {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], {stdio: 'pipe'});
      return c;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** The binutils needed for `arch`, or undefined when one is missing. */
export function toolsFor(arch: TrampolineArch): {as: string; objcopy: string; nm: string} | undefined {
  const t = TOOLS[arch];
  const as = which(t.as);
  const objcopy = which(t.objcopy);
  const nm = which(t.nm);
  return as && objcopy && nm ? {as, objcopy, nm} : undefined;
}

export interface AssembledTrampoline {
  readonly arch: TrampolineArch;
  readonly bytes: Uint8Array;
  readonly symbols: Record<string, number>;
}

export function assemble(arch: TrampolineArch, source: string): AssembledTrampoline {
  const tools = toolsFor(arch);
  if (tools === undefined) throw new Error(`binutils for ${arch} not installed (${TOOLS[arch].as.join(' or ')})`);
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-tramp-'));
  try {
    const obj = join(dir, 't.o');
    const bin = join(dir, 't.bin');
    execFileSync(tools.as, [...TOOLS[arch].asArgs, '-o', obj, source], {stdio: 'pipe'});
    // A relocation left in the object means a reference the assembler could not resolve: the raw bytes would be wrong.
    const relocs = execFileSync('readelf', ['-rW', obj], {encoding: 'utf8'});
    if (/Relocation section/.test(relocs)) throw new Error(`${source}: unresolved relocations:\n${relocs}`);
    execFileSync(tools.objcopy, ['-O', 'binary', '-j', '.text', obj, bin], {stdio: 'pipe'});
    const symbols: Record<string, number> = {};
    for (const line of execFileSync(tools.nm, [obj], {encoding: 'utf8'}).split('\n')) {
      const m = /^([0-9a-f]+)\s+T\s+(\S+)$/i.exec(line.trim());
      if (m) symbols[m[2] as string] = parseInt(m[1] as string, 16);
    }
    return {arch, bytes: new Uint8Array(readFileSync(bin)), symbols};
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
}
