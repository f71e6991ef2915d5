/**
 * loader.conf(5) as stand/lua/config.lua reads it: `name="value"` lines (quotes optional), '#' comments.
 *   X_load="YES"  loads module X; X_name (file to load instead of X), X_type (a raw file type such as
 *   "boot_entropy_cache"; ELF module types mean a kld), X_flags (its MODINFO_ARGS). X_before/X_after/X_error
 *   run loader commands, which kexec-ts cannot do: they are reported and ignored.
 *   module_path, kernel, kernel_options: kernel selection; loader_conf_files is never exported.
 *   every other variable goes into the kernel environment.
 * Modules load in the order of their first mention (as the Forth loader does; Lua's pairs() order is random).
 */
import {KexecError} from '../../errors.js';
import {INPUT_LIMITS, readTextInput} from '../../io/read-input.js';

export interface LoaderConfModule {
  readonly key: string;
  readonly name: string;
  readonly type?: string;
  readonly flags?: string;
}

export interface LoaderConf {
  readonly files: string[];
  readonly modules: LoaderConfModule[];
  readonly env: Map<string, string>;
  readonly modulePath?: string;
  readonly kernel?: string;
  readonly kernelOptions?: string;
  readonly ignored: string[];
}

const LINE = /^\s*([-A-Za-z0-9_.]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s#"']*))\s*(?:#.*)?$/;
const MODULE_KEY = /^([-A-Za-z0-9_]+)_(load|name|type|flags|before|after|error)$/;

function parseLoaderConf(text: string, file: string, into?: LoaderConf): LoaderConf {
  const conf: LoaderConf = into ?? {files: [], modules: [], env: new Map(), ignored: []};
  conf.files.push(file);
  const table = new Map<string, {load?: string; name?: string; type?: string; flags?: string}>();
  const order: string[] = conf.modules.map((m) => m.key);
  for (const m of conf.modules) table.set(m.key, {load: 'YES', name: m.name, ...(m.type === undefined ? {} : {type: m.type}), ...(m.flags === undefined ? {} : {flags: m.flags})});
  let modulePath = conf.modulePath;
  let kernel = conf.kernel;
  let kernelOptions = conf.kernelOptions;
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (/^\s*(#.*)?$/.test(line)) return;
    const m = LINE.exec(line);
    if (m === null) {
      throw new KexecError('usage', `${file}:${i + 1}: not a loader.conf assignment: ${JSON.stringify(line.trim())}`, {reason: 'loader-conf-syntax'});
    }
    const key = m[1] as string;
    const value = m[2] ?? m[3] ?? m[4] ?? '';
    const mk = MODULE_KEY.exec(key);
    if (key === 'module_path') modulePath = value;
    else if (key === 'kernel') kernel = value;
    else if (key === 'kernel_options') kernelOptions = value;
    else if (key === 'loader_conf_files') conf.ignored.push(`${file}:${i + 1}: loader_conf_files is not followed`);
    else if (mk !== null) {
      const name = mk[1] as string;
      const field = mk[2] as string;
      if (!table.has(name)) {
        table.set(name, {});
        order.push(name);
      }
      const entry = table.get(name) as Record<string, string>;
      if (field === 'before' || field === 'after' || field === 'error') conf.ignored.push(`${file}:${i + 1}: ${key} (loader commands are not run by kexec-ts)`);
      else entry[field] = value;
    } else conf.env.set(key, value);
  });
  conf.modules.length = 0;
  for (const key of order) {
    const e = table.get(key);
    if (e === undefined || (e.load ?? '').toLowerCase() !== 'yes') continue;
    conf.modules.push({key, name: e.name ?? key, ...(e.type === undefined ? {} : {type: e.type}), ...(e.flags === undefined ? {} : {flags: e.flags})});
  }
  return Object.assign(conf, {
    ...(modulePath === undefined ? {} : {modulePath}),
    ...(kernel === undefined ? {} : {kernel}),
    ...(kernelOptions === undefined ? {} : {kernelOptions}),
  });
}

export async function readLoaderConf(paths: readonly string[], optional: boolean): Promise<LoaderConf> {
  const conf: LoaderConf = {files: [], modules: [], env: new Map(), ignored: []};
  for (const p of paths) {
    let text: string;
    try {
      text = await readTextInput(p, {what: 'loader.conf', maxBytes: INPUT_LIMITS.text, code: 'usage'});
    } catch (e) {
      if (optional && e instanceof KexecError && e.reason === 'input-enoent') continue;
      throw e;
    }
    parseLoaderConf(text, p, conf);
  }
  return conf;
}
