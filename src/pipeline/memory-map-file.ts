/**
 * A memory map named on the command line or in the config (--memmap, `memmap`): `sysctl vm.phys_segs` output or a
 * JSON/YAML map file. Unreadable files are usage errors (exit 2) naming the path, as the map is a setting.
 */
import {INPUT_LIMITS, readTextInput} from '../io/read-input.js';
import {parseMemoryMapText} from '../memory/map-file.js';
import type {MemoryMap} from '../memory/memory-map.js';

export async function readMemoryMapFile(path: string): Promise<MemoryMap> {
  return parseMemoryMapText(await readTextInput(path, {what: 'memory map', maxBytes: INPUT_LIMITS.text, code: 'usage'}), path);
}
