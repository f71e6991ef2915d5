/**
 * `npm run trampolines`: regenerates templates/trampolines/<arch>.json (bytes + parameter offsets) from the
 * assembly sources beside them. The JSON is committed so users need no cross assembler.
 */
import {createHash} from 'node:crypto';
import {readFileSync, writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {TRAMPOLINE_ARCHES, assemble} from './trampoline-assembler.js';

const dir = fileURLToPath(new URL('../templates/trampolines/', import.meta.url));
for (const arch of TRAMPOLINE_ARCHES) {
  const source = `${dir}${arch}.S`;
  const t = assemble(arch, source);
  const json = {
    arch,
    source: `${arch}.S`,
    sourceSha256: createHash('sha256').update(readFileSync(source)).digest('hex'),
    assembler: arch === 'amd64' ? 'GNU as --64' : 'aarch64-linux-gnu-as',
    bytes: Buffer.from(t.bytes).toString('hex'),
    symbols: t.symbols,
  };
  writeFileSync(`${dir}${arch}.json`, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`${arch}: ${t.bytes.length} bytes, symbols ${Object.keys(t.symbols).join(' ')}\n`);
}
