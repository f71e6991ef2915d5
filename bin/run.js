#!/usr/bin/env -S node --
// kexec-ts entry point. The `--` ends node's own options: Node 20 otherwise applies `--env-file=FILE` found
// anywhere in argv, even after the script name, so `kexec-ts load --env-file=F` would load F's NODE_OPTIONS
// (say `--require` of a user's script) into this root process before any of our code runs.
// CommonJS (bin/package.json says so), so Node skips its ES module loader. It runs the bundled CLI
// (dist/kexec-ts.cjs: every command in one file, see scripts/bundle.mjs; src/main.ts and src/cli/main.ts say how
// oclif is configured) compiled with the V8 code cache recorded at build time (dist/kexec-ts.cjs.cache), so
// start-up neither resolves the module graph file by file nor compiles what it runs: Node 20 has no
// module.enableCompileCache. A cache V8 rejects (another Node version) only costs the compile. Nothing is written
// at run time unless the build asks for the cache (KEXEC_TS_CODE_CACHE_OUT).
'use strict';
const {isAscii} = require('node:buffer');
const {readFileSync, writeFileSync} = require('node:fs');
const Module = require('node:module');
const {dirname, join} = require('node:path');
const {Script} = require('node:vm');

const root = join(__dirname, '..');
const bundle = join(root, 'dist', 'kexec-ts.cjs');
let cachedData;
try {
  cachedData = readFileSync(`${bundle}.cache`);
} catch {
  cachedData = undefined;
}
// The build makes the bundle pure ASCII (scripts/bundle.mjs), which reads as latin1, a copy; UTF-8 decoding of the
// whole script cost 3 ms of every start. Anything else is decoded as UTF-8.
const bytes = readFileSync(bundle);
const source = bytes.toString(isAscii(bytes) ? 'latin1' : 'utf8');
const script = new Script(Module.wrap(source), {filename: bundle, ...(cachedData ? {cachedData} : {})});
// Register the bundle as a CommonJS module before running it: oclif then "loads" its command target from the cache.
const mod = new Module(bundle);
mod.filename = bundle;
mod.paths = Module._nodeModulePaths(dirname(bundle));
Module._cache[bundle] = mod;
script.runInThisContext()(mod.exports, Module.createRequire(bundle), mod, bundle, dirname(bundle));
mod.loaded = true;

const cacheOut = process.env.KEXEC_TS_CODE_CACHE_OUT;
if (cacheOut) process.on('exit', () => writeFileSync(cacheOut, script.createCachedData()));

mod.exports.main(root, 'dist/kexec-ts.cjs', process.argv.slice(2));
