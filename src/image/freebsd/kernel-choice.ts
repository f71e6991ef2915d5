/**
 * Which kernel the loader boots, and the module_path it then hands the kernel, as stand/lua/config.lua
 * config.loadKernel() decides with the configuration's variables:
 *   - bootfile names the file(s) to try, ';'-separated, then "kernel" (loadBootfile);
 *   - with `kernel` unset, those are loaded from module_path as it is;
 *   - with kernel=NAME, module_path is set to "/boot/NAME", then to "NAME", and the bootfile names are tried in it;
 *     the first that loads makes module_path "DIR;<configured module_path>" and kernel_path DIR;
 *   - failing that, NAME itself is loaded as a file.
 * Each try is `load FILE`: a FILE with a '/' is that path, otherwise mod_load() looks it up in module_path
 * (linker.hints, then FILE.ko, FILE, FILE.debug). load_elf.c then sets kernelname to the path it loaded.
 */
import {KexecError} from '../../errors.js';
import type {RootFs} from '../../io/root-fs.js';
import {ModuleSearch, type SearchResult} from './module-search.js';

export interface KernelChoice {
  /** The kernel's path inside the root: kernelname. */
  readonly found: SearchResult;
  /** module_path for the new kernel's environment. */
  readonly modulePath: string;
  /** kernel_path (the directory the kernel came from), when the loader sets it. */
  readonly kernelPath?: string;
  /** How it was found, for notes: "kernel=kernel, bootfile=kernel: /boot/kernel/kernel". */
  readonly how: string;
}

async function tryLoad(fs: RootFs, names: readonly string[], modulePath: string): Promise<SearchResult | undefined> {
  const search = new ModuleSearch(modulePath, fs);
  for (const name of names) {
    const found = name.includes('/') ? await search.findFile(name) : await search.findModule(name);
    if (found !== undefined) return found;
  }
  return undefined;
}

export async function chooseKernel(fs: RootFs, get: (name: string) => string | undefined): Promise<KernelChoice> {
  const bootfile = get('bootfile');
  const names = [...(bootfile === undefined ? [] : bootfile.split(';').map((n) => n.trim()).filter((n) => n !== '')), 'kernel'];
  const modulePath = get('module_path');
  const kernel = get('kernel');
  const how = `kernel=${kernel ?? '(unset)'}, bootfile=${bootfile ?? '(unset)'}`;
  if (kernel === undefined) {
    const found = await tryLoad(fs, names, modulePath ?? '/boot/kernel;/boot/modules');
    if (found !== undefined) return {found, modulePath: modulePath ?? '/boot/kernel;/boot/modules', how: `${how}: ${found.path}`};
  } else {
    for (const dir of [`/boot/${kernel}`, kernel]) {
      const found = await tryLoad(fs, names, dir);
      if (found !== undefined) {
        return {found, modulePath: modulePath === undefined ? dir : `${dir};${modulePath}`, kernelPath: dir, how: `${how}: ${found.path}`};
      }
    }
    const asFile = await tryLoad(fs, [kernel], modulePath ?? '');
    if (asFile !== undefined) return {found: asFile, modulePath: modulePath ?? '', how: `${how}: ${asFile.path}`};
  }
  throw new KexecError('badInput', `${fs.describe('/boot')}: no kernel found as the loader looks for it (${how}; tried ${names.join(', ')} in ${kernel === undefined ? modulePath ?? '/boot/kernel;/boot/modules' : `/boot/${kernel} and ${kernel}`})`, {
    reason: 'kernel-not-found', hint: 'name the kernel to boot as the IMAGE argument, or fix kernel=/bootfile= in loader.conf',
  });
}
