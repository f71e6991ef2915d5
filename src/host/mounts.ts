/**
 * What is mounted where, from `mount -p` (sbin/mount/mount.c: fstab format: "device mountpoint fstype options 0 0",
 * one file system per line; a ZFS dataset is its device field), and the ZFS boot pool from
 * `zpool get -H -o name,value bootfs` ("pool<TAB>dataset") and `zpool status -P` (vdev paths: a GELI provider
 * ends in ".eli"). Lines that do not parse are skipped: these are facts to check, not configuration.
 */

export interface Mount {
  readonly device: string;
  readonly mountpoint: string;
  readonly fstype: string;
  readonly options: string;
}

export function parseMountP(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || (f[0] ?? '').startsWith('#')) continue;
    out.push({device: f[0] as string, mountpoint: f[1] as string, fstype: f[2] as string, options: f[3] as string});
  }
  return out;
}

/** The file system mounted at `dir` (the last one mounted there wins, as the kernel's mount list does). */
export function mountAt(mounts: readonly Mount[], dir: string): Mount | undefined {
  const clean = dir.length > 1 ? dir.replace(/\/+$/, '') : dir;
  return [...mounts].reverse().find((m) => m.mountpoint === clean);
}

/** pool -> bootfs dataset ("-" means unset). */
export function parseBootfs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [pool, value] = line.trim().split('\t');
    if (pool !== undefined && value !== undefined && value !== '-' && value !== '') out.set(pool, value);
  }
  return out;
}

/** The device paths of one pool's vdevs in `zpool status -P` output (indented lines under "config:"). */
export function poolDevices(text: string, pool: string): string[] {
  const out: string[] = [];
  let inPool = false;
  for (const line of text.split('\n')) {
    const m = /^\s*pool:\s*(\S+)/.exec(line);
    if (m !== null) {
      inPool = m[1] === pool;
      continue;
    }
    const dev = /^\s+(\/dev\/\S+)/.exec(line);
    if (inPool && dev !== null) out.push(dev[1] as string);
  }
  return out;
}
