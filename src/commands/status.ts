/**
 * `kexec-ts status`: what is staged (and, on the simulated machine, what it last booted).
 */
import {Flags} from '@oclif/core';
import {BaseCommand} from '../cli/base-command.js';
import {commandContext} from '../cli/command-context.js';
import {backendFlags} from '../cli/settings.js';
import type {BackendStatus} from '../backend/types.js';
import {ExitCode, KexecError} from '../errors.js';

export default class Status extends BaseCommand {
  static override summary = 'Show what is staged.';
  static override description =
    'Prints the staged image (files, entry, digest, segments, when), the backend and, on the sim backend, what the ' +
    'machine last booted. Exits 0 whether or not something is staged; with --check exits 0 when staged and 7 when not ' +
    '(with --json the same document either way).';
  static override flags = {...backendFlags, check: Flags.boolean({description: 'exit 7 when nothing is staged (for scripts)'})};
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> status --check && <%= config.bin %> exec --yes'];

  async run(): Promise<BackendStatus> {
    const {flags} = await this.parse(Status);
    const {backend, why} = await commandContext(flags);
    const s = await backend.status();
    if (!this.jsonEnabled()) {
      this.log(`${why}${s.stateDir === undefined ? '' : `, state in ${s.stateDir}`}`);
      if (s.staged === null) this.log('nothing staged');
      else {
        this.log(`staged: ${s.staged.files.join(' + ')}`);
        this.log(`  ${s.staged.kind} ${s.staged.arch}, entry ${s.staged.entry}, ${s.staged.segments} segments (${s.staged.memsz} bytes), digest ${s.staged.digest}`);
        this.log(`  at ${s.staged.stagedAt}`);
      }
      if (s.booted !== null) this.log(`booted: ${s.booted.kernel} (digest ${s.booted.digest.slice(0, 16)}…) at ${s.booted.bootedAt}`);
    }
    if (flags.check && s.staged === null) {
      // --json --check prints what --json prints (the same shape, so a script reads one format) and exits 7.
      if (this.jsonEnabled()) {
        process.exitCode = ExitCode.nothingStaged;
        return s;
      }
      throw new KexecError('nothingStaged', `nothing is staged on the ${backend.name} backend`, {reason: 'nothing-staged', details: {status: s}});
    }
    return s;
  }
}
