/**
 * The one place that decides whether kexec-ts may trust a path it reads as an authority (config, state
 * directory and everything in it, the native library): the threat model in README "Threat model". A path is
 * trusted when it and every directory above it is owned by root (or, when kexec-ts runs as an ordinary user, by
 * that user) and not writable by group or others; a directory writable by others is accepted only with the
 * sticky bit and root as owner (/tmp), because then nobody else can rename or remove what is in it. The path
 * itself is looked at with lstat (a symlink is never followed for it); a symlink among the directories above it
 * is followed and its target checked the same way (FreeBSD's /home -> /usr/home), since only the owner of the
 * directory holding it can change it, and that directory is checked too.
 */
import {lstatSync, readlinkSync, type Stats} from 'node:fs';
import {dirname, isAbsolute, join, resolve, sep} from 'node:path';
import {KexecError, type ExitCodeName} from '../errors.js';
import {errnoCode} from './read-input.js';

export interface TrustOptions {
  /** What the path is, for messages: "state directory", "config file". */
  readonly what: string;
  /** What the path itself must be. */
  readonly kind: 'file' | 'dir';
  /** Exit code of a refusal (default 5: backend state; 2 for configuration). */
  readonly code?: ExitCodeName;
  /** The effective uid to trust besides root (default: the process's). Undefined: no ownership model (Windows). */
  readonly euid?: number | undefined;
}

const S_ISVTX = 0o1000;
const MAX_LINKS = 40;

function refuse(path: string, o: TrustOptions, why: string, st?: Stats): never {
  const owner = st === undefined ? '' : ` (owner uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`;
  throw new KexecError(o.code ?? 'backend', `${o.what} ${path}: ${why}${owner}`, {
    reason: 'untrusted-path',
    hint: `kexec-ts trusts only paths owned by root${o.euid === 0 ? '' : ' or by you'} and not writable by group or others (README "Threat model"): chown/chmod ${path} or choose another path`,
    details: {path, ...(st === undefined ? {} : {uid: st.uid, mode: st.mode & 0o7777})},
  });
}

function ownerOk(st: Stats, euid: number): boolean {
  return st.uid === 0 || st.uid === euid;
}

/** Checks one directory above the path (following it when it is a symlink); `depth` bounds symlink chains. */
function checkAncestor(dir: string, o: TrustOptions & {euid: number}, depth: number): void {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return; // created later by us, 0700
    throw e;
  }
  if (st.isSymbolicLink()) {
    if (depth >= MAX_LINKS) refuse(dir, o, 'too many symbolic links');
    const target = resolve(dirname(dir), readlinkSync(dir));
    checkChain(target, o, depth + 1, true);
    return;
  }
  if (!st.isDirectory()) refuse(dir, o, 'a component of the path is not a directory', st);
  if (!ownerOk(st, o.euid)) refuse(dir, o, 'a directory above it belongs to another user', st);
  if ((st.mode & 0o022) !== 0 && !((st.mode & S_ISVTX) !== 0 && st.uid === 0 && (st.mode & 0o002) !== 0)) {
    refuse(dir, o, 'a directory above it is writable by group or others', st);
  }
}

/** Every directory from `/` down to `path` (included when `self`), in order. */
function checkChain(path: string, o: TrustOptions & {euid: number}, depth: number, self: boolean): void {
  const parts = path.split(sep).filter((p) => p !== '');
  const upto = self ? parts.length : parts.length - 1;
  let dir: string = sep;
  checkAncestor(dir, o, depth);
  for (let i = 0; i < upto; i++) {
    dir = join(dir, parts[i] as string);
    checkAncestor(dir, o, depth);
  }
}

/**
 * Throws KexecError naming the path and its owner unless `path` may be trusted (see the header). A path that does
 * not exist passes when its directories do (kexec-ts creates it, 0600/0700). Returns the lstat of the path, or
 * undefined when it does not exist.
 */
export function assertTrusted(path: string, options: TrustOptions): Stats | undefined {
  const euid = 'euid' in options ? options.euid : process.geteuid?.();
  if (euid === undefined) return undefined;
  const o = {...options, euid};
  const abs = isAbsolute(path) ? path : resolve(path);
  checkChain(abs, o, 0, false);
  let st: Stats;
  try {
    st = lstatSync(abs);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
  if (st.isSymbolicLink()) refuse(path, o, 'is a symbolic link (kexec-ts does not follow links for what it trusts)', st);
  if (options.kind === 'dir' && !st.isDirectory()) refuse(path, o, 'is not a directory', st);
  if (options.kind === 'file' && !st.isFile()) refuse(path, o, 'is not a regular file', st);
  if (!ownerOk(st, euid)) refuse(path, o, euid === 0 ? 'is not owned by root' : 'is owned by another user', st);
  if ((st.mode & 0o022) !== 0) refuse(path, o, 'is writable by group or others', st);
  return st;
}
