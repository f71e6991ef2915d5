/**
 * The committed trampolines (templates/trampolines/<arch>.json) against their sources: reassembled with
 * binutils when installed (scripts/trampoline-assembler.ts), and, always, checked by reading the committed bytes:
 * the source digest, where the parameters sit (in the bytes, aligned, zero placeholders), the amd64 frame btext
 * reads (sys/amd64/amd64/locore.S: 4(%rsp) modulep, 8(%rsp) kernend after `ret` pops the entry), and that the
 * RIP-relative / PC-relative loads in the code really address those parameters.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {createHash} from 'node:crypto';
import {readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {TRAMPOLINE_ARCHES, assemble, toolsFor, type TrampolineArch} from '../../scripts/trampoline-assembler.js';
import {READELF_PRESENT} from '../helpers/corpus.js';

const DIR = fileURLToPath(new URL('../../templates/trampolines/', import.meta.url));

interface TrampolineJson {
  arch: string;
  source: string;
  sourceSha256: string;
  bytes: string;
  symbols: Record<string, number>;
}

const load = (arch: TrampolineArch): TrampolineJson => JSON.parse(readFileSync(`${DIR}${arch}.json`, 'utf8')) as TrampolineJson;
const bytesOf = (j: TrampolineJson): Uint8Array => Uint8Array.from(Buffer.from(j.bytes, 'hex'));
const params = (j: TrampolineJson): Record<string, number> => Object.fromEntries(Object.entries(j.symbols).filter(([k]) => k.startsWith('param_')));

/** The parameters freebsd-image.ts patches, with their widths. */
const WIDTHS: Record<TrampolineArch, Record<string, 4 | 8>> = {
  amd64: {param_gdt_base: 8, param_pt4: 8, param_entry: 8, param_frame: 4, param_modulep: 4, param_kernend: 4},
  arm64: {param_entry: 8, param_modulep: 8},
};
const PACKAGE: Record<TrampolineArch, string> = {amd64: 'binutils (or binutils-x86-64-linux-gnu)', arm64: 'binutils-aarch64-linux-gnu'};

function assemblerSkip(arch: TrampolineArch): string | false {
  if (toolsFor(arch) === undefined) return `binutils for ${arch} are not installed (Debian package ${PACKAGE[arch]})`;
  if (!READELF_PRESENT) return 'readelf is not on PATH (Debian package binutils)';
  return false;
}

for (const arch of TRAMPOLINE_ARCHES) {
  describe(`${arch} trampoline`, () => {
    const json = load(arch);
    const bytes = bytesOf(json);

    test('the JSON names its source, and sourceSha256 is the digest of that .S file', () => {
      assert.equal(json.arch, arch);
      assert.equal(json.source, `${arch}.S`);
      assert.equal(json.sourceSha256, createHash('sha256').update(readFileSync(`${DIR}${arch}.S`)).digest('hex'), `${arch}.S changed since ${arch}.json was generated (npm run trampolines)`);
    });

    test('reassembled from the .S, the bytes and every symbol equal the committed JSON', {skip: assemblerSkip(arch)}, () => {
      const t = assemble(arch, `${DIR}${arch}.S`);
      assert.equal(Buffer.from(t.bytes).toString('hex'), json.bytes);
      assert.deepEqual(params(t as unknown as TrampolineJson), params(json));
      assert.deepEqual(t.symbols, json.symbols);
    });

    test('parameters: exactly the ones patched, inside the bytes, aligned to their width, zero in the template, disjoint', () => {
      const p = params(json);
      const widths = WIDTHS[arch];
      assert.deepEqual(Object.keys(p).sort(), Object.keys(widths).sort());
      assert.equal(json.symbols.tramp_start, 0);
      assert.equal(json.symbols.tramp_end, bytes.length, 'tramp_end is the end of the bytes');
      const spans = Object.entries(p).map(([name, at]) => ({name, at, end: at + (widths[name] ?? 0)})).sort((a, b) => a.at - b.at);
      for (const s of spans) {
        const w = s.end - s.at;
        assert.equal(s.at % w, 0, `${s.name} at ${s.at} is ${w}-byte aligned`);
        assert.ok(s.end <= bytes.length, `${s.name} [${s.at}, ${s.end}) is inside the ${bytes.length} bytes`);
        assert.ok(bytes.subarray(s.at, s.end).every((b) => b === 0), `${s.name} is a zero placeholder`);
      }
      spans.slice(1).forEach((s, i) => assert.ok(s.at >= (spans[i]?.end ?? 0), `${s.name} does not overlap ${spans[i]?.name}`));
    });
  });
}

/** Target of the first `opcode disp32` RIP-relative instruction (7 bytes: 3 opcode/modrm bytes + disp32). */
function ripTarget(code: Uint8Array, opcode: number[]): number {
  for (let i = 0; i + 7 <= code.length; i++) {
    if (opcode.every((b, k) => code[i + k] === b)) return i + 7 + new DataView(code.buffer, code.byteOffset + i + 3, 4).getInt32(0, true);
  }
  assert.fail(`no ${opcode.map((b) => b.toString(16)).join(' ')} instruction`);
}

test('amd64: the parameter block is the frame btext expects, and the code addresses it', () => {
  const json = load('amd64');
  const bytes = bytesOf(json);
  const s = json.symbols as Record<string, number>;
  const entry = s.param_entry as number;
  assert.equal(s.param_frame, entry + 8, 'ret pops the u64 param_entry; %rsp then points at param_frame');
  assert.equal(s.param_modulep, entry + 12, '4(%rsp) = modulep (u32)');
  assert.equal(s.param_kernend, entry + 16, '8(%rsp) = kernend (u32)');
  const code = bytes.subarray(0, s.tramp_gdt);
  assert.equal(ripTarget(code, [0x48, 0x8d, 0x25]), entry, 'lea param_entry(%rip), %rsp');
  const lea = code.findIndex((_, i) => code[i] === 0x48 && code[i + 1] === 0x8d && code[i + 2] === 0x25);
  assert.equal(code[lea + 7], 0xc3, 'ret right after loading %rsp');
  assert.equal(ripTarget(code, [0x48, 0x8b, 0x05]), s.param_pt4, 'movq param_pt4(%rip), %rax (then %cr3)');
  const gdtr = ripTarget(code, [0x0f, 0x01, 0x15]);
  assert.equal(gdtr, (s.param_gdt_base as number) - 2, 'lgdt reads the limit word just before param_gdt_base');
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  assert.equal(dv.getUint16(gdtr, true), 3 * 8 - 1, 'GDT limit covers null, code and data descriptors');
  const gdt = s.tramp_gdt as number;
  assert.equal(gdt % 8, 0, 'the GDT is 8-byte aligned');
  assert.deepEqual([0, 8, 16].map((o) => dv.getBigUint64(gdt + o, true)), [0n, 0x00209a0000000000n, 0x0000920000000000n]);
});

test('arm64: x0 <- param_modulep and x9 <- param_entry by LDR (literal), then br x9; interrupts masked first', () => {
  const json = load('arm64');
  const bytes = bytesOf(json);
  const s = json.symbols;
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const words = Array.from({length: (s.param_entry as number) / 4}, (_, i) => dv.getUint32(4 * i, true));
  assert.equal(words[0], 0xd5034fdf, 'msr daifset, #0xf');
  const loads = new Map<number, number>();
  words.forEach((w, i) => {
    if ((w & 0xff000000) >>> 0 === 0x58000000) loads.set(w & 0x1f, 4 * i + (((w >>> 5) & 0x7ffff) << 13 >> 13) * 4);
  });
  assert.equal(loads.get(0), s.param_modulep, 'ldr x0, param_modulep');
  assert.equal(loads.get(9), s.param_entry, 'ldr x9, param_entry');
  const br = words.findIndex((w) => (w & 0xfffffc1f) >>> 0 === 0xd61f0000);
  assert.ok(br > 0 && (((words[br] as number) >>> 5) & 0x1f) === 9, 'br x9');
  for (const r of [1, 2, 3]) assert.ok(words.slice(0, br).includes((0xaa1f03e0 | r) >>> 0), `x${r} zeroed (mov x${r}, xzr)`);
});
