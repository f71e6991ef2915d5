/**
 * `kexec-ts init`: copies the commented config template (and, on request, the scripted-upgrade script) into a
 * directory. Existing files are never overwritten without force, and files are created with O_EXCL so a planted
 * symlink is not followed. The templates ship in the package (package.json "files"); they are found by walking
 * up from this module, which works from src/config/ under tsx and from dist/config/ after the build.
 */
import {existsSync} from 'node:fs';
import {mkdir, readFile, rm, writeFile} from 'node:fs/promises';
import {dirname, join, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import {KexecError} from '../errors.js';
import {systemConfigDir} from './load-config.js';

const CONFIG_TEMPLATE = 'config/kexec-ts.yaml';
const UPGRADE_SCRIPT_TEMPLATE = 'scripts/freebsd-update-kexec.sh';

export interface InitOptions {
  /** Directory to write into (created when missing). */
  dir: string;
  /** Also write freebsd-update-kexec.sh. */
  withScript: boolean;
  /** Overwrite existing files. */
  force: boolean;
}

/** The package's templates/ directory: the nearest ancestor of this module that holds templates/config/kexec-ts.yaml. */
export function templatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (true) {
    const candidate = join(dir, 'templates');
    if (existsSync(join(candidate, CONFIG_TEMPLATE))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new KexecError('internal', `templates/${CONFIG_TEMPLATE} not found above ${fileURLToPath(import.meta.url)}`, {
    reason: 'templates-missing',
    hint: 'the installed package is incomplete: reinstall kexec-ts',
  });
}

/**
 * The config file name init writes in `dir`: kexec-ts.yaml in the system-wide directory, .kexec-tsrc.yaml
 * elsewhere, so that loadConfig finds it either way.
 */
export function initConfigName(dir: string): string {
  return resolve(dir) === resolve(systemConfigDir()) ? 'kexec-ts.yaml' : '.kexec-tsrc.yaml';
}

function existsError(files: readonly string[]): KexecError {
  return new KexecError('usage', `${files.join(', ')}: already exist${files.length > 1 ? '' : 's'}; not overwriting`, {
    reason: 'init-exists',
    hint: 'pass --force to overwrite, or choose another directory',
    details: {files},
  });
}

/** Writes the template(s) into options.dir; returns the paths written. */
export async function writeInitFiles(options: InitOptions): Promise<string[]> {
  const dir = resolve(options.dir);
  const templates = templatesDir();
  const jobs = [{from: CONFIG_TEMPLATE, to: join(dir, initConfigName(dir)), mode: 0o644}];
  if (options.withScript) jobs.push({from: UPGRADE_SCRIPT_TEMPLATE, to: join(dir, 'freebsd-update-kexec.sh'), mode: 0o755});

  const existing = jobs.filter((j) => existsSync(j.to)).map((j) => j.to);
  if (existing.length > 0 && !options.force) throw existsError(existing);

  await mkdir(dir, {recursive: true});
  const written: string[] = [];
  for (const job of jobs) {
    const text = await readFile(join(templates, job.from), 'utf8');
    try {
      if (options.force) await rm(job.to, {force: true});
      await writeFile(job.to, text, {mode: job.mode, flag: 'wx'});
    } catch (e) {
      if (typeof e === 'object' && e !== null && 'code' in e && e.code === 'EEXIST') throw existsError([job.to]);
      throw new KexecError('usage', `${job.to}: cannot write (${e instanceof Error ? e.message : String(e)})`, {reason: 'init-write', cause: e});
    }
    written.push(job.to);
  }
  return written;
}
