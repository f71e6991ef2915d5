/**
 * `kexec-ts init`: write a commented configuration file (and, on request, a scripted-upgrade helper).
 */
import {Flags} from '@oclif/core';
import {BaseCommand} from '../cli/base-command.js';
import {writeInitFiles} from '../config/init.js';

export default class Init extends BaseCommand {
  static override summary = 'Write a commented configuration file (and an upgrade script).';
  static override description =
    'Writes every configuration key, commented out with its default, to DIR (default: the current directory as ' +
    '.kexec-tsrc.yaml; /usr/local/etc as kexec-ts.yaml). --script adds freebsd-update-kexec.sh, which installs ' +
    'fetched updates (both stages of a release upgrade), loads the new kernel and boots it with a clean exec, falling ' +
    'back to a normal reboot when staging fails.';
  static override flags = {
    dir: Flags.string({description: 'where to write (default: the current directory)', helpValue: 'DIR'}),
    script: Flags.boolean({description: 'also write the scripted-upgrade helper'}),
    force: Flags.boolean({description: 'overwrite existing files'}),
  };
  static override examples = ['<%= config.bin %> init', 'sudo <%= config.bin %> init --dir /usr/local/etc --script'];

  async run(): Promise<{written: string[]}> {
    const {flags} = await this.parse(Init);
    const written = await writeInitFiles({dir: flags.dir ?? process.cwd(), withScript: flags.script, force: flags.force});
    if (!this.jsonEnabled()) for (const w of written) this.log(`wrote ${w}`);
    return {written};
  }
}
