/**
 * Shared by the corpus and CLI tests: where the real-ELF corpus lives (../shared/corpus next to the project,
 * absent on most machines: tests skip), whether GNU readelf is on PATH, and how to run the compiled CLI.
 */
import {execFile, execFileSync, spawnSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

/** The project root (this file is test/helpers/corpus.ts). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** /work/shared/corpus when the project is /work/main. */
export const CORPUS_DIR = fileURLToPath(new URL('../../../shared/corpus/', import.meta.url));
export const CORPUS_PRESENT = existsSync(`${CORPUS_DIR}manifest.json`);
export const CORPUS_SKIP: string | false = CORPUS_PRESENT ? false : `corpus not found at ${CORPUS_DIR}`;

export const READELF_PRESENT = spawnSync('readelf', ['--version'], {stdio: 'ignore'}).status === 0;
export const READELF_SKIP: string | false = READELF_PRESENT ? false : 'readelf is not on PATH';

export interface ManifestEntry {
  path: string;
  class: string;
  data: string;
  osabi: string;
  type: string;
  machine: string;
  entry: string;
  pt_load: Record<string, string>[];
}

export function corpusFile(rel: string): string {
  return `${CORPUS_DIR}${rel}`;
}

/** The manifest's entries, or [] when the corpus is absent (the tests that use it are skipped then). */
export function loadManifest(): ManifestEntry[] {
  if (!CORPUS_PRESENT) return [];
  return JSON.parse(readFileSync(`${CORPUS_DIR}manifest.json`, 'utf8')) as ManifestEntry[];
}

/** GNU readelf with C locale (stable English labels), stdout as text. */
export function readelf(args: string[]): string {
  return execFileSync('readelf', args, {encoding: 'utf8', env: {...process.env, LC_ALL: 'C'}, maxBuffer: 64 << 20});
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The kexec-ts whose CLI the tests run: this checkout, or another build named by KEXEC_TS_TEST_CLI_ROOT (how a
 * regression test is shown to fail on the code before its fix: build that commit, point this at it).
 */
export const CLI_ROOT = process.env.KEXEC_TS_TEST_CLI_ROOT ?? PROJECT_ROOT;
export const CLI_BIN = `${CLI_ROOT.replace(/\/?$/, '/')}bin/run.js`;
export const CLI_BUILT = existsSync(`${CLI_ROOT.replace(/\/?$/, '/')}dist/commands/inspect.js`);

/** Runs `node bin/run.js ARGS` from the project root; never rejects, whatever the exit code. */
export function runCli(args: string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'};
  delete env.KEXEC_TS_DEBUG;
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_BIN, ...args], {cwd: PROJECT_ROOT, env, maxBuffer: 64 << 20}, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({code, stdout, stderr});
    });
  });
}
