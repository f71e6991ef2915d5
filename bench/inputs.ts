/**
 * The benchmark's inputs, written into bench/out (and reused when already there): the 256 MiB, 64-PT_LOAD ELF
 * (gen-elf.ts); the GENERIC-sized FreeBSD case, a FreeBSD-shaped amd64 kernel of about 40 MiB built in code the
 * way the tests build theirs (test/fixtures/freebsd-kernel.ts), providing every module ../shared/corpus's
 * linker.hints credits to `kernel`, with all 77 freebsd-14-amd64 corpus modules; sparse raw md_images of 1.5 GiB
 * (the largest kind FreeBSD amd64 can preload) and 4.5 GiB with loader.conf files naming them; and a 4.5 GiB
 * sparse generic ELF image with a memory map that has room for it above 4 GiB.
 */
import {existsSync, mkdirSync, readdirSync, statSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {buildFreeBsdKernel} from '../test/fixtures/freebsd-kernel.js';
import {writeSparseElf, writeSparseRaw} from '../test/fixtures/sparse-image.js';
import {hintsVersions} from '../test/helpers/freebsd-plan-run.js';
import {DEFAULT_BIG_ELF, ensureBigElf} from './gen-elf.js';

const GiB = 2 ** 30;

export interface GenericCase {
  readonly kernel: string;
  readonly moduleDir: string;
  readonly modules: readonly string[];
  readonly bytes: number;
}

export interface Inputs {
  readonly bigElf: string;
  readonly generic: GenericCase | undefined;
  readonly md15: {readonly image: string; readonly conf: string; readonly size: number};
  readonly md45: {readonly image: string; readonly conf: string; readonly size: number};
  readonly elf45: {readonly image: string; readonly memmap: string; readonly size: number};
}

function genericCase(out: string, corpus: string): GenericCase | undefined {
  const moduleDir = join(corpus, 'freebsd-14-amd64');
  if (!existsSync(join(moduleDir, 'linker.hints'))) return undefined;
  const kernel = join(out, 'generic-sized', 'kernel');
  if (!existsSync(kernel)) {
    mkdirSync(join(out, 'generic-sized'), {recursive: true});
    const builtins = hintsVersions(join(moduleDir, 'linker.hints'), 'kernel').filter((m) => m.name !== 'kernel');
    writeFileSync(kernel, buildFreeBsdKernel({arch: 'amd64', version: 1402000, builtins, textSize: 19 << 20, bssSize: 4 << 20}));
  }
  const modules = readdirSync(moduleDir).filter((n) => n.endsWith('.ko')).sort().map((n) => join(moduleDir, n));
  const bytes = [kernel, ...modules].reduce((n, f) => n + statSync(f).size, 0);
  return {kernel, moduleDir, modules, bytes};
}

function ensure(path: string, make: () => void): string {
  if (!existsSync(path)) make();
  return path;
}

export function prepareInputs(out: string, corpus: string): Inputs {
  mkdirSync(out, {recursive: true});
  const bigElf = join(out, 'big-64x4m.elf');
  ensureBigElf(bigElf, DEFAULT_BIG_ELF);
  const md = (name: string, size: number): {image: string; conf: string; size: number} => {
    const image = ensure(join(out, name), () => writeSparseRaw(join(out, name), size));
    const conf = join(out, `${name}.loader.conf`);
    writeFileSync(conf, `md_load="YES"\nmd_type="md_image"\nmd_name="${image}"\n`);
    return {image, conf, size};
  };
  const elf45Size = 4.5 * GiB;
  const elf45 = ensure(join(out, 'sparse-4.5g.elf'), () => writeSparseElf(join(out, 'sparse-4.5g.elf'), {paddr: 0x100000000n, filesz: elf45Size, memsz: elf45Size + 0x4000}));
  const memmap = join(out, 'ram-above-4g.json');
  writeFileSync(memmap, `${JSON.stringify({ranges: [{start: '0x100000', end: '0xb0000000', type: 'ram'}, {start: '0x100000000', end: '0x300000000', type: 'ram'}]})}\n`);
  return {
    bigElf,
    generic: genericCase(out, corpus),
    md15: md('md-1.5g.img', 1.5 * GiB),
    md45: md('md-4.5g.img', 4.5 * GiB),
    elf45: {image: elf45, memmap, size: elf45Size},
  };
}
