/**
 * The loader's configuration as stand/lua/config.lua config.load() builds it from a root file system (recent main):
 *   1. readConf("/boot/defaults/loader.conf"), recursively: before each file loader_conf_files is cleared; after it,
 *      each name in the (new) loader_conf_files is read in turn; a file is read once; a missing one silently skipped
 *      (defaults: "/boot/device.hints /boot/loader.conf");
 *   2. top level only, after that: every NAME.conf (Lua ".conf$": any name ending in "conf" after one character) of
 *      each directory in loader_conf_dirs ("/boot/loader.conf.d"), then of /boot/loader.conf.d/PRODUCT for each
 *      variable named in product_vars, then each file of local_loader_conf_files ("/boot/loader.conf.local");
 *   3. checkNextboot(): nextboot_conf ("/boot/nextboot.conf") is parsed when it exists, nextboot_enable is not "NO"
 *      and its first line is not nextboot_enable="NO"; the loader then overwrites that first line and sets
 *      nextboot_enable=NO, so it is used once.
 * The loader reads a directory in lfs.dir order, which the running loader's file system decides; kexec-ts reads it
 * sorted by name and says so when two of those files set one variable differently. loader_conf_files never reaches
 * the environment (loader_env_restricted_table). `exec` lines are loader commands kexec-ts cannot run: they are
 * reported (not `echo`, which only prints).
 */
import {KexecError} from '../../errors.js';
import type {RootFs} from '../../io/root-fs.js';
import {expandValue, parseLoaderConfText, type ModuleField} from './loader-conf.js';

export interface ConfValue {
  readonly value: string;
  /** "FILE:LINE" where it was set. */
  readonly source: string;
}

export interface ModuleEntry {
  readonly key: string;
  readonly fields: Partial<Record<ModuleField, ConfValue>>;
}

export interface LoaderConfig {
  /** Every variable the configuration sets (module keys included), in the order first set. */
  readonly env: ReadonlyMap<string, ConfValue>;
  /** Module keys in order of first mention (config.lua walks them with pairs(), in no defined order). */
  readonly modules: ReadonlyMap<string, ModuleEntry>;
  /** Files read, in order. */
  readonly files: readonly string[];
  readonly notes: readonly string[];
  /** nextboot.conf, when the loader would use it for this boot. */
  readonly nextboot?: string;
}

const RESTRICTED = new Set(['loader_conf_files']);

class Builder {
  readonly env = new Map<string, ConfValue>();
  readonly modules = new Map<string, {key: string; fields: Partial<Record<ModuleField, ConfValue>>}>();
  readonly files: string[] = [];
  readonly notes: string[] = [];
  readonly loaded = new Set<string>();
  /** Variables set from a loader.conf.d file, to spot order-dependent conflicts. */
  readonly fromDir = new Map<string, ConfValue>();
  private filesVar: string | undefined;

  constructor(private readonly fs: RootFs, private readonly fallback: (name: string) => string | undefined) {}

  get(name: string): string | undefined {
    if (name === 'loader_conf_files') return this.filesVar;
    return this.env.get(name)?.value ?? this.fallback(name);
  }

  set(name: string, value: string, source: string): void {
    if (RESTRICTED.has(name)) {
      this.filesVar = value;
      return;
    }
    this.env.delete(name);
    this.env.set(name, {value, source});
  }

  /** config.parse(): one file's lines, applied in order. */
  apply(text: string, file: string, inDir: boolean): void {
    for (const l of parseLoaderConfText(text)) {
      const where = `${this.fs.describe(file)}:${l.line}`;
      if (l.kind === 'malformed') {
        this.notes.push(`${where}: malformed line skipped, as the loader does: ${JSON.stringify(l.text.trim().slice(0, 80))}`);
      } else if (l.kind === 'exec') {
        if (!/^echo(\s|$)/.test(l.command)) this.notes.push(`${where}: exec "${l.command}" is a loader command; kexec-ts does not run it`);
      } else if (l.kind === 'module') {
        const value = l.field === 'load' ? l.value.toUpperCase() : l.value;
        const m = this.modules.get(l.module) ?? {key: l.module, fields: {}};
        m.fields[l.field] = {value, source: where};
        this.modules.set(l.module, m);
        this.set(`${l.module}_${l.field}`, value, where);
      } else {
        const r = expandValue(l.value, (n) => this.get(n));
        if ('error' in r) {
          this.notes.push(`${where}: ${l.name} not set, as the loader does: ${r.error}`);
          continue;
        }
        if (inDir) {
          const before = this.fromDir.get(l.name);
          if (before !== undefined && before.value !== r.value) {
            this.notes.push(`${where}: ${l.name}="${r.value}" also set to "${before.value}" at ${before.source}; the loader reads loader.conf.d in directory order, kexec-ts by name`);
          }
          this.fromDir.set(l.name, {value: r.value, source: where});
        }
        this.set(l.name, r.value, where);
      }
    }
  }

  /** config.readConf(). */
  async readConf(file: string, top: boolean, inDir = false, required = false): Promise<void> {
    if (this.loaded.has(file)) return;
    this.filesVar = undefined;
    const text = await this.fs.readText(file, 'loader configuration');
    if (text === undefined && required) {
      throw new KexecError('usage', `loader.conf ${this.fs.describe(file)}: no such file`, {reason: 'input-enoent'});
    }
    this.loaded.add(file);
    if (text !== undefined) {
      this.files.push(this.fs.describe(file));
      this.apply(text, file, inDir);
    }
    const chained: string | undefined = this.filesVar;
    for (const name of (chained ?? '').split(/\s+/).filter((n) => n !== '')) await this.readConf(name, false);
    if (!top) return;
    const dirs = (this.get('loader_conf_dirs') ?? '').split(/\s+/).filter((d) => d !== '');
    for (const v of (this.get('product_vars') ?? '').split(/\s+/).filter((n) => n !== '')) {
      const product = this.get(v);
      if (product !== undefined) dirs.push(`/boot/loader.conf.d/${product}`);
    }
    for (const dir of dirs) {
      if ((await this.fs.kind(dir)) !== 'dir') {
        if ((await this.fs.kind(dir)) !== undefined) this.notes.push(`${this.fs.describe(dir)}: not a directory, skipped as the loader does`);
        continue;
      }
      const names = ((await this.fs.list(dir)) ?? []).filter((n) => /.conf$/.test(n)).sort();
      for (const n of names) {
        const path = `${dir.replace(/\/+$/, '')}/${n}`;
        if ((await this.fs.kind(path)) === 'file') await this.readConf(path, false, true);
      }
    }
    for (const name of (this.get('local_loader_conf_files') ?? '').split(/\s+/).filter((n) => n !== '')) await this.readConf(name, false);
  }

  /** checkNextboot(); returns the file when it was used. */
  async nextboot(): Promise<string | undefined> {
    const file = this.get('nextboot_conf');
    const enable = this.get('nextboot_enable');
    if (file === undefined || enable === 'NO') return undefined;
    const text = await this.fs.readText(file, 'nextboot.conf');
    if (text === undefined) return undefined;
    if (enable === undefined && /^nextboot_enable="NO"/.test(text)) return undefined;
    this.files.push(this.fs.describe(file));
    this.apply(text, file, false);
    this.set('nextboot_enable', 'NO', `${this.fs.describe(file)} (disabled after use, as the loader rewrites its first line)`);
    return file;
  }
}

/**
 * The configuration the loader would build from `fs`. `fallback` answers for variables the configuration has not set
 * (the loader's own environment: currdev, console...), used by $name expansion and nextboot_enable. `explicit`
 * replaces the chain by these files (read once each, in order, no defaults, no loader.conf.d, no nextboot).
 */
export async function readLoaderConfig(fs: RootFs, fallback: (name: string) => string | undefined, explicit?: readonly string[]): Promise<LoaderConfig> {
  const b = new Builder(fs, fallback);
  let nextboot: string | undefined;
  if (explicit !== undefined) {
    for (const f of explicit) await b.readConf(f, false, false, true);
  } else {
    await b.readConf('/boot/defaults/loader.conf', true);
    nextboot = await b.nextboot();
  }
  return {env: b.env, modules: b.modules, files: b.files, notes: b.notes, ...(nextboot === undefined ? {} : {nextboot})};
}
