/**
 * Where a program would be found: a name is looked up on PATH as execvp(3) does, a path (anything with a slash) is
 * taken as is. The QEMU backend's probe() uses it to say "not available: install qemu-system-x86" before a boot
 * is attempted, instead of failing with ENOENT halfway through exec.
 */
import {accessSync, constants, statSync} from 'node:fs';
import {delimiter, join} from 'node:path';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The path that running `program` would execute, or undefined. */
export function findExecutable(program: string, searchPath = process.env.PATH ?? ''): string | undefined {
  if (program.includes('/')) return executable(program) ? program : undefined;
  for (const dir of searchPath.split(delimiter)) {
    const candidate = join(dir === '' ? '.' : dir, program);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}
