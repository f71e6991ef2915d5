// `npm run build`, second step: bundles src/main.ts (every command, oclif, yaml, listr2) into dist/kexec-ts.cjs, one
// CommonJS file bin/run.js compiles once, then records a V8 code cache for it (dist/kexec-ts.cjs.cache) by running
// `--help` and a small `plan` through bin/run.js, so a cold start neither resolves hundreds of modules nor
// compiles the functions those commands use.
import {spawnSync} from 'node:child_process';
import {readFileSync, rmSync, writeFileSync} from 'node:fs';
import {createRequire} from 'node:module';
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

// Modules that only some commands use, and whose loading costs every start (`--help` loaded 85 of Node's own
// modules and bindings, and 72 files of yaml, before this): oclif requires child_process (util/os.js), readline (parser/parse.js),
// perf_hooks (performance.js) and its globbing packages (tinyglobby, minimatch: command discovery by pattern, which
// the bundle's explicit command list never uses) at the top of files every run loads; our own code requires crypto,
// readline/promises and yaml (config files and memory maps only). Each becomes a stand-in that loads the real
// module on first property read. esbuild's ESM interop (__toESM) copies a CommonJS module's keys as getters, so the
// stand-in lists the keys (read from the module at build time) and describes each as a getter without loading
// anything. The importers only read properties (`x.createHash(...)`, `new x.LineCounter()`), never `x instanceof`
// or `new x`; modules that export a function or class (events, stream) are not in the list, since a Proxy of a
// plain object cannot stand in for them. test/cli/bundle-cli.test.ts runs commands that use each of them.
const LAZY_BUILTINS = ['child_process', 'crypto', 'perf_hooks', 'readline', 'readline/promises'];
const LAZY_PACKAGES = ['yaml', 'tinyglobby', 'minimatch'];
const require = createRequire(import.meta.url);
const NS = 'lazy-module';
const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    const names = [...LAZY_BUILTINS.map((m) => `(node:)?${m}`), ...LAZY_PACKAGES].join('|').replaceAll('/', '\\/');
    b.onResolve({filter: new RegExp(`^(${names})$`)}, async (args) => {
      if (args.kind === 'dynamic-import' || args.pluginData === NS || args.namespace === NS) return undefined;
      const builtin = !LAZY_PACKAGES.includes(args.path);
      if (builtin) return {path: `node:${args.path.replace(/^node:/, '')}`, namespace: NS};
      // The package the importer would get (a nested copy, if any), resolved by esbuild's own rules.
      const real = await b.resolve(args.path, {kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: NS});
      if (real.errors.length > 0) return {errors: real.errors};
      return {path: real.path, namespace: NS};
    });
    b.onResolve({filter: /.*/, namespace: NS}, (args) =>
      args.path.startsWith('node:') ? {path: args.path, external: true} : {path: args.path});
    b.onLoad({filter: /.*/, namespace: NS}, (args) => {
      const real = require(args.path);
      const keys = Object.keys(real).filter((k) => k !== 'default' && k !== '__esModule');
      return {
        loader: 'js',
        contents: `let real;
const load = () => (real ??= require(${JSON.stringify(args.path)}));
const KEYS = ${JSON.stringify(keys)};
const ES_MODULE = ${real.__esModule === true};
module.exports = new Proxy({}, {
  get: (_, key) => (key === '__esModule' ? ES_MODULE : load()[key]),
  has: (_, key) => KEYS.includes(key) || key in load(),
  ownKeys: () => [...KEYS],
  getOwnPropertyDescriptor: (_, key) =>
    KEYS.includes(key) ? {configurable: true, enumerable: true, get: () => load()[key]} : undefined,
});
`,
      };
    });
  },
};

// oclif's Config.load asks `(await import('wsl-utils')).isWsl` for its platform name on every start; wsl-utils
// and the powershell-utils it imports both promisify child_process.execFile at import, which loads child_process
// and its dependencies (3 ms). oclif only reads isWsl (and powerShellPath() on Windows, which kexec-ts does not run
// on), so its import gets wsl-utils' own isWsl (from is-wsl, resolved from wsl-utils' directory) and a
// powerShellPath that imports the real wsl-utils when called.
const oclifWslUtils = {
  name: 'oclif-wsl-utils',
  setup(b) {
    const NS_WSL = 'oclif-wsl-utils';
    b.onResolve({filter: /^wsl-utils$/}, async (args) => {
      if (args.pluginData === NS_WSL || args.namespace === NS_WSL || !/@oclif\/core\/lib\/util\/os\.js$/.test(args.importer)) return undefined;
      const real = await b.resolve('wsl-utils', {kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: NS_WSL});
      if (real.errors.length > 0) return {errors: real.errors};
      return {path: real.path, namespace: NS_WSL};
    });
    b.onLoad({filter: /.*/, namespace: NS_WSL}, (args) => ({
      loader: 'js',
      resolveDir: dirname(args.path),
      contents: `export {default as isWsl} from 'is-wsl';
export const powerShellPath = async (...a) => (await import(${JSON.stringify(args.path)})).powerShellPath(...a);
`,
    }));
  },
};

// Three things oclif does at every start that cost more than all of kexec-ts's own start-up, taken out at build time
// (each replacement must match exactly once, or the build fails, so an oclif upgrade cannot drop one silently):
// - lib/index.js checks the Node version at import by loading semver and package.json (5 ms); src/main.ts makes
//   the same check against the package.json it reads anyway (src/cli/node-engine.ts).
// - lib/config/plugin.js sorts the command ids with String#localeCompare, whose first call loads ICU's collation
//   data (15-20 ms on the 2-core machine, more than a third of `--help`). Command ids are ASCII (letters, digits,
//   '-' and ':', see src/main.ts), where code-unit order is what oclif gets from localeCompare; the help output of
//   the bundle is compared with oclif's own (test/cli/bundle-cli.test.ts).
// - lib/help/util.js passes every help string through ejs.render, which compiles each into a new Function (5 ms
//   for the root help). A string without an ejs tag renders as itself, so only strings with `<%` go to ejs.
const OCLIF_PATCHES = [
  {
    file: /@oclif\/core\/lib\/help\/util\.js$/,
    from: 'return ejs_1.default.render(t, context);',
    to: "return t.includes('<%') ? ejs_1.default.render(t, context) : t;",
  },
  {file: /@oclif\/core\/lib\/index\.js$/, from: '\ncheckNodeVersion();\n', to: '\n'},
  {
    file: /@oclif\/core\/lib\/config\/plugin\.js$/,
    from: '.sort((a, b) => a.id.localeCompare(b.id));',
    to: '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));',
  },
];
const oclifPatches = {
  name: 'oclif-start-up-patches',
  setup(b) {
    b.onLoad({filter: new RegExp(OCLIF_PATCHES.map((p) => p.file.source).join('|'))}, (args) => {
      let text = readFileSync(args.path, 'utf8');
      for (const p of OCLIF_PATCHES.filter((q) => q.file.test(args.path))) {
        if (text.split(p.from).length !== 2) throw new Error(`${args.path}: expected exactly one ${JSON.stringify(p.from)} to replace`);
        text = text.replace(p.from, p.to);
      }
      return {contents: text, loader: 'js'};
    });
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
  plugins: [importMetaUrl, lazyModules, oclifWslUtils, lazyExternal, oclifPatches],
  logLevel: 'warning',
  legalComments: 'inline',
  // Whitespace and syntax only (a third smaller, read and hashed faster at every start); identifiers keep their
  // names, which error classes and oclif's command classes are known by. BUNDLE_READABLE=1 keeps the layout, for
  // profiling (`node --cpu-prof bin/run.js --help` then names each function's line).
  minifyWhitespace: !process.env.BUNDLE_READABLE,
  minifySyntax: !process.env.BUNDLE_READABLE,
});

// esbuild escapes non-ASCII characters everywhere but in regular expression literals (ansis has a literal U+009B,
// the C1 CSI, in one). \uXXXX means the same in a regular expression, a string or an identifier, so the bundle
// is made pure ASCII, which bin/run.js then reads as latin1: a copy, where UTF-8 decoding of the 1 MiB script
// took 3 ms of every start. In a String.raw template it would not mean the same: the build stops if a line with a
// non-ASCII character has one.
const text = readFileSync(out, 'utf8');
// eslint-disable-next-line no-control-regex
const nonAscii = /[^\x00-\x7f]/g;
for (const line of text.split('\n')) {
  if (nonAscii.test(line) && line.includes('String.raw')) throw new Error(`${out}: a non-ASCII character on a line with String.raw`);
  nonAscii.lastIndex = 0;
}
const ascii = text.replace(nonAscii, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
if (ascii !== text) writeFileSync(out, ascii);

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
