// `npm run build`, second step: bundles src/main.ts (every command, oclif, yaml, listr2) into dist/kexec-ts.cjs, one
// CommonJS file bin/run.js compiles once, then records a V8 code cache for it (dist/kexec-ts.cjs.cache) by running
// `--help` and a small `plan` through bin/run.js, so a cold start neither resolves hundreds of modules nor
// compiles the functions those commands use.
import {spawnSync} from 'node:child_process';
import {readFileSync, rmSync} from 'node:fs';
import {dirname, join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import {build} from 'esbuild';

const root = `${join(dirname(fileURLToPath(import.meta.url)), '..')}/`;
const out = `${root}dist/kexec-ts.cjs`;
const cache = `${out}.cache`;

// A few modules find files next to themselves (templates/, examples/) from import.meta.url, which a CommonJS
// bundle does not have: each gets the URL its own compiled file has in dist/, computed from where the bundle runs.
const importMetaUrl = {
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({filter: /\/src\/.*\.ts$/}, (args) => {
      const text = readFileSync(args.path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      const compiled = relative(`${root}src`, args.path).replace(/\.ts$/, '.js');
      const url = `require('node:url').pathToFileURL(require('node:path').join(__dirname, ${JSON.stringify(compiled)})).href`;
      return {contents: text.replaceAll('import.meta.url', url), loader: 'ts'};
    });
  },
};

// koffi and Node's own modules stay outside the bundle. Their dynamic imports (koffi in src/backend/native/ffi.ts,
// node:worker_threads in src/io/hash-pool.ts) become lazy requires of a tiny module re-exporting them: bin/run.js
// runs the bundle as a vm.Script, where import() has no loader.
const lazyExternal = {
  name: 'lazy-external',
  setup(b) {
    b.onResolve({filter: /^(koffi|node:.*)$/}, (args) =>
      args.kind === 'dynamic-import' ? {path: args.path, namespace: 'lazy-cjs'} : {path: args.path, external: true});
    b.onLoad({filter: /.*/, namespace: 'lazy-cjs'}, (args) => ({contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js'}));
  },
};

await build({
  entryPoints: [`${root}src/main.ts`],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // typescript: oclif reads tsconfig.json through it only when NODE_ENV is development or test (never here).
  external: ['koffi', 'typescript'],
  plugins: [importMetaUrl, lazyExternal],
  logLevel: 'warning',
  legalComments: 'inline',
});

// The cache is written by the launcher at exit of a run with KEXEC_TS_CODE_CACHE_OUT set; it holds every function
// compiled by then. A stale or foreign cache (another Node version) is rejected by V8 and the script compiles as usual.
// Each run starts from the cache the previous one wrote, so the last cache holds what all of them compiled.
rmSync(cache, {force: true});
const kernel = `${root}examples/probe-kernel/build/amd64/kernel`;
for (const args of [['--help'], ['plan', '--help'], ['plan', '--json', kernel]]) {
  const r = spawnSync(process.execPath, [`${root}bin/run.js`, ...args], {
    env: {...process.env, KEXEC_TS_CODE_CACHE_OUT: cache},
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) {
    process.stderr.write(`bundle: recording the code cache: kexec-ts ${args.join(' ')} exited ${r.status}\n`);
    process.exit(1);
  }
}
