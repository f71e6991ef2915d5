/**
 * The root file system the new kernel mounts, as the loader decides it (stand/common/boot.c getrootmount, run by
 * bi_load): a vfs.root.mountfrom already in the environment (loader.conf, --env) is kept; otherwise the first "/"
 * line of the root's /etc/fstab gives "<fstype>:<device>" and its options; otherwise, booting from ZFS, currdev
 * "zfs:<dataset>:" gives "zfs:<dataset>". Without any of these the kernel has no root and stops at the mountroot>
 * prompt (sys/kern/vfs_mountroot.c vfs_mountroot_conf0 ends its list with ".ask").
 */
import type {RootFs} from '../../io/root-fs.js';
import {rootFromFstab} from './fstab.js';

export interface RootMount {
  readonly mountfrom: string;
  /** vfs.root.mountfrom.options, when fstab gives them. */
  readonly options?: string;
  readonly source: string;
  /** True when the root sits on a GELI provider (its device, or a vdev of its pool, ends in ".eli"). */
  readonly geli?: boolean;
}

export interface ZfsRoot {
  readonly dataset: string;
  readonly source: string;
  /** The pool's vdev paths, when known (zpool status -P), to tell whether it is on GELI. */
  readonly devices?: readonly string[];
}

/** A vfs.root.mountfrom value as a RootMount: GELI when its (first) device is a ".eli" provider. */
function fromValue(value: string, source: string, options?: string): RootMount {
  const device = value.split(/\s+/)[0]?.replace(/^[^:]*:/, '') ?? '';
  return {mountfrom: value, source, ...(options === undefined ? {} : {options}), geli: device.endsWith('.eli')};
}

/**
 * The root mount, or undefined when the loader would find none (the checklist then says why it is fatal).
 * `running` is the last resort: the root the running system mounted (kenv vfs.root.mountfrom), for a host whose
 * fstab has no "/" line and that is not on ZFS; the caller says when it was used.
 */
export async function rootMount(fs: RootFs, configured: {value: string; source: string} | undefined, zfs: ZfsRoot | undefined,
  running?: {value: string; options?: string; source: string}): Promise<RootMount | undefined> {
  if (configured !== undefined) return fromValue(configured.value, configured.source);
  const fstab = await fs.readText('/etc/fstab', 'fstab');
  const root = fstab === undefined ? undefined : rootFromFstab(fstab);
  if (root !== undefined) {
    return {mountfrom: root.mountfrom, options: root.options, source: `${fs.describe('/etc/fstab')}:${root.line}`, geli: root.device.endsWith('.eli')};
  }
  if (zfs !== undefined) {
    return {
      mountfrom: `zfs:${zfs.dataset}`, source: zfs.source,
      ...(zfs.devices === undefined || zfs.devices.length === 0 ? {} : {geli: zfs.devices.some((d) => d.endsWith('.eli'))}),
    };
  }
  return running === undefined ? undefined : fromValue(running.value, running.source, running.options);
}
