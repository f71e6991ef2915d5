/**
 * Shared by the corpus and CLI tests: where the real-ELF corpus lives (../shared/corpus next to the project,
 * absent on most machines: tests skip), whether GNU readelf is on PATH, and (re-exported for the tests that
 * import it from here) where the compiled CLI is and how to run it in this process.
 */
import {execFileSync, spawnSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {fileURLToPath} from 'node:url';
import {cli} from './cli.js';
import type {CliResult} from './cli-root.js';

export {CLI_BIN, CLI_BUILT, CLI_ROOT, PROJECT_ROOT, type CliResult} from './cli-root.js';
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

/** `kexec-ts ARGS` in this process (see cli.ts); never rejects, whatever the exit code. */
export function runCli(args: readonly string[]): Promise<CliResult> {
  return cli(args);
}
