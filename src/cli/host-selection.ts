/**
 * The host a FreeBSD kernel is planned for, chosen at the door: --host DIR (or config `host`) reads a host
 * snapshot; otherwise, on FreeBSD, the running system; elsewhere none (a kernel planned alone: no kernel
 * environment to carry over, no checklist). The native backend boots this machine, so it takes no other host.
 */
import {resolve} from 'node:path';
import {KexecError} from '../errors.js';
import type {EffectiveConfig} from '../config/merge-config.js';
import type {HostFacts} from '../host/host-facts.js';

export async function selectHost(flag: string | undefined, settings: EffectiveConfig, backend?: string): Promise<HostFacts | undefined> {
  const dir = flag ?? settings.host.value;
  if (dir !== undefined) {
    if (backend === 'native') {
      throw new KexecError('usage', `--host ${dir}: the native backend boots this machine; a host snapshot plans for another one (use \`kexec-ts plan --host\`, or --backend sim|qemu to try it)`, {reason: 'usage'});
    }
    const {readSnapshot} = await import('../host/snapshot.js');
    // Absolute, so the paths it names (a nextboot.conf the staged record keeps, sources in notes) stay valid.
    return readSnapshot(resolve(dir));
  }
  if (process.platform !== 'freebsd') return undefined;
  const {runningHostFacts} = await import('../host/running-host.js');
  return runningHostFacts();
}
