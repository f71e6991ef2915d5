/**
 * `npm run sample-kernel`: regenerates examples/sample-kernel/ (the embedded default the demo loads): a small
 * FreeBSD-shaped amd64 kernel and two modules, hello.ko depending on greet.ko, built with the same generators
 * the tests use. The outputs are committed, so a fresh clone needs no toolchain; the generation is deterministic.
 */
import {writeFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {buildFreeBsdKernel} from '../test/fixtures/freebsd-kernel.js';
import {buildFreeBsdModule} from '../test/fixtures/freebsd-module.js';

const dir = fileURLToPath(new URL('../examples/sample-kernel/', import.meta.url));
const version = 1500000;
const files: [string, Uint8Array][] = [
  ['kernel', buildFreeBsdKernel({arch: 'amd64', version, textSize: 0x8000, bssSize: 0x4000})],
  ['greet.ko', buildFreeBsdModule({name: 'greet', version: 1, depends: [{name: 'kernel', min: version, preferred: version, max: 1599999}], textSize: 0x600})],
  ['hello.ko', buildFreeBsdModule({name: 'hello', version: 1, depends: [{name: 'kernel', min: version, preferred: version, max: 1599999}, {name: 'greet', min: 1, preferred: 1, max: 1}], textSize: 0x400})],
];
for (const [name, bytes] of files) {
  writeFileSync(`${dir}${name}`, bytes);
  process.stdout.write(`${name}: ${bytes.length} bytes\n`);
}
