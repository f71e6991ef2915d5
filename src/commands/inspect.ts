/**
 * `kexec-ts inspect FILE...`: what is in an ELF kernel, module or firmware image.
 */
import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../cli/base-command.js';
import {inspectFile, type InspectReport} from '../elf/report.js';
import {renderInspect} from '../render/inspect-text.js';

export default class Inspect extends BaseCommand {
  static override summary = 'Show what an ELF kernel, module or firmware image contains.';
  static override description =
    'Reads each FILE with kexec-ts\'s strict ELF reader and prints its class, byte order, type, machine, OSABI, entry ' +
    '(virtual and physical), program headers and, for FreeBSD files, __FreeBSD_version and module metadata.\n' +
    'Exit codes: 0 ok, 2 usage, 3 a file is missing, unreadable or not a valid ELF file.';
  static override strict = false;
  static override args = {
    file: Args.string({description: 'ELF file(s) to inspect', required: true}),
  };
  static override flags = {
    sections: Flags.boolean({description: 'also list the section headers in text output'}),
  };
  static override examples = [
    '<%= config.bin %> inspect /boot/kernel/kernel',
    '<%= config.bin %> inspect --json /boot/kernel/if_em.ko /boot/kernel/kernel',
  ];

  async run(): Promise<InspectReport | InspectReport[]> {
    const {argv, flags} = await this.parse(Inspect);
    const files = argv as string[];
    const reports: InspectReport[] = [];
    for (const file of files) reports.push(await inspectFile(file));
    if (!this.jsonEnabled()) this.log(reports.map((r) => renderInspect(r, {sections: flags.sections})).join('\n\n'));
    return reports.length === 1 ? (reports[0] as InspectReport) : reports;
  }
}
