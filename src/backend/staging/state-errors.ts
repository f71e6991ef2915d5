/**
 * OS errors met while reading or writing state (the lock, a generation, machine.json, the native record) as
 * KexecErrors: exit 5 (the backend's state cannot be used), naming the path and the errno, never exit 1. A full
 * disk or a read-only file system is an ordinary condition for a root tool, not a bug.
 */
import {KexecError} from '../../errors.js';
import {errnoCode} from '../../io/read-input.js';

const WHAT: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EEXIST: 'already exists',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'is a symbolic link or a link loop',
  ENAMETOOLONG: 'the path is too long',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
};

export function stateIoError(e: unknown, what: string, fallbackPath: string): KexecError {
  if (e instanceof KexecError) return e;
  const code = errnoCode(e) ?? 'EIO';
  const path = typeof e === 'object' && e !== null && 'path' in e && typeof e.path === 'string' ? e.path : fallbackPath;
  return new KexecError('backend', `${what} ${path}: ${code}: ${WHAT[code] ?? 'cannot be used'}`, {
    reason: `state-${code.toLowerCase()}`,
    hint: code === 'ENOSPC' || code === 'EDQUOT' ? 'free space on that file system, or choose another --state-dir' : 'fix the path (owner, type, permissions) or choose another --state-dir',
    details: {path, errno: code},
    cause: e,
  });
}
