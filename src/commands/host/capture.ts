/**
 * `kexec-ts host capture DIR`: writes a host snapshot of this FreeBSD system (src/host/snapshot.ts documents the
 * layout): the output of kenv, sysctl -e, sysctl -b for the firmware tables, uname -mr, the zpool and mount
 * commands, and copies of /boot/defaults/loader.conf, /boot/loader.conf*, /boot/loader.conf.d, /boot/device.hints,
 * /boot/nextboot.conf and /etc/fstab. Plan against it anywhere with --host DIR; attach it to a bug report.
 */
import {Args} from '@oclif/core';
import {BaseCommand} from '../../cli/base-command.js';
import {KexecError} from '../../errors.js';
import {errnoCode} from '../../io/read-input.js';

export default class HostCapture extends BaseCommand {
  static override summary = 'Write a snapshot of this FreeBSD host, to plan for it elsewhere with --host.';
  static override description =
    'Runs kenv, sysctl (text values and the binary machdep.efi_map, machdep.smap, hw.fdt.dtb), uname -mr, zpool get bootfs, ' +
    'zpool status -P and mount -p by their absolute paths, and copies the loader configuration and /etc/fstab into DIR ' +
    '(which must not exist yet). The layout is plain command output, so a snapshot can also be made by hand (README: host snapshots).\n' +
    'Exit codes: 0 ok, 2 usage (not FreeBSD, DIR exists).';
  static override args = {dir: Args.string({description: 'directory to create', required: true})};
  static override examples = ['<%= config.bin %> host capture /tmp/web1-snapshot', '<%= config.bin %> plan --host /tmp/web1-snapshot --json'];

  async run(): Promise<{dir: string; files: string[]}> {
    const {args} = await this.parse(HostCapture);
    const [{runningHostFacts}, {writeSnapshot}] = await Promise.all([import('../../host/running-host.js'), import('../../host/snapshot.js')]);
    const facts = await runningHostFacts();
    let files: string[];
    try {
      files = await writeSnapshot(facts, args.dir);
    } catch (e) {
      if (e instanceof KexecError) throw e;
      const code = errnoCode(e);
      throw new KexecError('usage', `${args.dir}: cannot write the snapshot (${code ?? String(e)})`, {
        reason: 'capture-failed', hint: code === 'EEXIST' ? 'give a directory that does not exist yet' : 'check the path and permissions',
      });
    }
    if (!this.jsonEnabled()) {
      this.log(`wrote ${files.length} files to ${args.dir}`);
      for (const n of facts.notes) this.log(`  note: ${n}`);
    }
    return {dir: args.dir, files};
  }
}
