/**
 * Where the simulated machine keeps its state when no --state-dir is given: one machine per user (root's is
 * system-wide, like the native backend's record directory), following the XDG base directory spec for users.
 */
import {homedir} from 'node:os';
import {join} from 'node:path';

const ROOT_STATE_DIR = '/var/db/kexec-ts';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, uid: number | undefined = process.getuid?.()): string {
  if (uid === 0) return ROOT_STATE_DIR;
  const xdg = env.XDG_STATE_HOME;
  if (xdg !== undefined && xdg !== '' && xdg.startsWith('/')) return join(xdg, 'kexec-ts');
  return join(homedir(), '.local', 'state', 'kexec-ts');
}
