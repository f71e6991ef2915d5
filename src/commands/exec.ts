/**
 * `kexec-ts exec`: boot the staged image. On the native backend this is reboot(RB_KEXEC) and does not return;
 * on the simulated machine it rebuilds physical memory, verifies every digest, decodes the hand-off and prints
 * the boot report.
 */
import {Flags} from '@oclif/core';
import {BaseCommand} from '../cli/base-command.js';
import {commandContext} from '../cli/command-context.js';
import {confirm, interactive} from '../cli/confirm.js';
import {backendFlags} from '../cli/settings.js';
import type {BootReport} from '../backend/types.js';
import {KexecError} from '../errors.js';

export default class Exec extends BaseCommand {
  static override summary = 'Boot the staged image.';
  static override description =
    'Native backend: reboot(RB_KEXEC). Processes are not shut down cleanly; use shutdown(8) first where you can. ' +
    'Sim backend: verifies the staged plan\'s digests, decodes what the new kernel would receive, prints the boot ' +
    'report and records the machine as booted into it.\n' +
    'Exit codes: 0 ok (sim), 2 usage, 5 backend refused, 6 busy, 7 nothing staged (unless --force).';
  static override flags = {
    ...backendFlags,
    yes: Flags.boolean({char: 'y', description: 'do not ask for confirmation'}),
    force: Flags.boolean({description: 'exec even when nothing is recorded as staged (the machine then reboots normally)'}),
  };
  static override examples = ['<%= config.bin %> exec', '<%= config.bin %> exec --yes --json'];

  async run(): Promise<BootReport> {
    const {flags} = await this.parse(Exec);
    const {backend} = await commandContext(flags);
    if (!flags.yes) {
      if (interactive()) {
        const what = backend.name === 'native'
          ? 'Reboot this machine into the staged kernel now? Running processes are not shut down cleanly.'
          : `Boot the ${backend.name === 'qemu' ? 'emulated' : 'simulated'} machine into the staged image?`;
        if (!(await confirm(what))) throw new KexecError('usage', 'exec cancelled', {reason: 'cancelled'});
      } else if (backend.name === 'native') {
        throw new KexecError('usage', 'exec on the native backend reboots this machine: give --yes when not running on a terminal', {reason: 'confirm-needed'});
      }
    }
    const report = await backend.exec({force: flags.force});
    if (!this.jsonEnabled()) this.log(report.lines.join('\n'));
    return report;
  }
}
