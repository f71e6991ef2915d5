/**
 * `kexec-ts exec`: boot the staged image. On the native backend this is a clean shutdown as init(8) and reboot(8)
 * do it, then reboot(RB_KEXEC) (src/backend/native/clean-exec.ts), or with --now the reboot alone; it does not
 * return. On the simulated machine it rebuilds physical memory, verifies every digest, decodes the hand-off and
 * prints the boot report; on qemu it boots the plan in an emulator. Every backend asks first on a terminal and
 * refuses without --yes elsewhere, so a script that works on the simulator works the same on a host.
 */
import {Flags} from '@oclif/core';
import {BaseCommand} from '../cli/base-command.js';
import {commandContext} from '../cli/command-context.js';
import {confirm, interactive} from '../cli/confirm.js';
import {backendFlags} from '../cli/settings.js';
import type {Backend, BootReport, ExecOptions, StagedRecord} from '../backend/types.js';
import {KexecError} from '../errors.js';

export interface ExecDryRun {
  readonly backend: string;
  readonly dryRun: true;
  readonly staged: StagedRecord | null;
  readonly steps: readonly string[];
}

function whatBoots(staged: StagedRecord | null): string {
  if (staged === null) return 'nothing (no image is recorded as staged: a normal reboot)';
  const [kernel, ...modules] = staged.files;
  return `${kernel ?? '?'}${modules.length === 0 ? '' : ` with ${modules.join(', ')}`}`;
}

/** The steps of backends that keep no list of their own (sim, qemu): they change nothing but their state dir. */
function genericSteps(backend: Backend): string[] {
  const machine = backend.name === 'qemu' ? 'the emulated machine (QEMU)' : 'the simulated machine';
  return [
    'verify: the staged plan and every segment against their SHA-256 digests',
    `boot: ${machine} from the staged segments at the plan's entry, and report what the new kernel finds`,
    'record: the machine as booted into the image; the staged image is consumed',
  ];
}

function question(backend: Backend, staged: StagedRecord | null, now: boolean): string {
  const what = whatBoots(staged);
  if (backend.name !== 'native') return `Boot the ${backend.name === 'qemu' ? 'emulated' : 'simulated'} machine into ${what}?`;
  return now
    ? `Reboot this host NOW into ${what}? --now skips rc.shutdown: services are not stopped and processes not terminated.`
    : `Shut this host down (rc.shutdown, then every process is terminated) and reboot into ${what}?`;
}

export default class Exec extends BaseCommand {
  static override summary = 'Boot the staged image.';
  static override description =
    'Native backend: shuts the host down as init(8) and reboot(8) do (log to syslog, stop logins, /etc/rc.shutdown ' +
    'with init\'s timeout, SIGTERM then SIGKILL to every process, sync), then reboot(RB_KEXEC) with the value ' +
    'recorded at load. --now reboots at once. --dry-run prints every step and does nothing. ' +
    'Sim backend: verifies the staged plan\'s digests, decodes what the new kernel would receive, prints the boot ' +
    'report and records the machine as booted into it. Every backend asks on a terminal and needs --yes elsewhere.\n' +
    'Exit codes: 0 ok (sim, qemu, --dry-run), 2 usage or not confirmed, 5 backend refused, 6 busy, 7 nothing staged (unless --force).';
  static override flags = {
    ...backendFlags,
    yes: Flags.boolean({char: 'y', description: 'do not ask for confirmation'}),
    force: Flags.boolean({description: 'exec even when nothing is recorded as staged (the machine then reboots normally)'}),
    now: Flags.boolean({description: 'native: reboot(RB_KEXEC) at once, without rc.shutdown or terminating processes'}),
    'dry-run': Flags.boolean({description: 'print every step exec would take, and take none'}),
  };
  static override examples = ['<%= config.bin %> exec', '<%= config.bin %> exec --dry-run', '<%= config.bin %> exec --yes --json'];

  async run(): Promise<BootReport | ExecDryRun> {
    const {flags} = await this.parse(Exec);
    const {backend} = await commandContext(flags);
    const options: ExecOptions = {force: flags.force, now: flags.now};
    const staged = (await backend.status()).staged;
    // Nothing staged and not forced: the backend's own refusal (exit 7), before any question is asked.
    if (staged === null && !flags.force) return backend.exec(options);

    if (flags['dry-run']) {
      const steps = backend.describeExec === undefined ? genericSteps(backend) : await backend.describeExec(options);
      if (!this.jsonEnabled()) {
        this.log(`dry run: exec on the ${backend.name} backend would boot ${whatBoots(staged)}`);
        steps.forEach((s, i) => this.log(`  ${i + 1}. ${s}`));
        this.log('nothing was done');
      }
      return {backend: backend.name, dryRun: true, staged, steps};
    }

    if (!flags.yes) {
      if (!interactive()) {
        throw new KexecError('usage', `exec on the ${backend.name} backend would boot ${whatBoots(staged)}: give --yes when not running on a terminal`, {
          reason: 'confirm-needed',
          hint: 'kexec-ts exec --dry-run shows every step; add --yes to go ahead',
        });
      }
      if (!(await confirm(question(backend, staged, flags.now)))) throw new KexecError('usage', 'exec cancelled', {reason: 'cancelled'});
    }
    const report = await backend.exec(options);
    if (!this.jsonEnabled()) this.log(report.lines.join('\n'));
    return report;
  }
}
