/**
 * `kexec-ts help [COMMAND...]`: the same text as `kexec-ts COMMAND --help` (oclif's Help class), for people who
 * type it the other way round. An unknown command is exit 2 with the closest names, as for any unknown command.
 */
import {Args, Help} from '@oclif/core';
import {BaseCommand} from '../cli/base-command.js';
import {unknownCommand} from '../cli/command-not-found.js';

export default class HelpCommand extends BaseCommand {
  static override summary = 'Show help for kexec-ts or one of its commands.';
  static override strict = false;
  static override enableJsonFlag = false;
  static override args = {command: Args.string({description: 'the command, e.g. load or "host capture"'})};
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help exec'];

  async run(): Promise<void> {
    const {argv} = await this.parse(HelpCommand);
    const words = argv as string[];
    const id = words.join(':');
    if (words.length > 0 && this.config.findCommand(id) === undefined && this.config.findTopic(id) === undefined) {
      throw unknownCommand(words.join(' '), this.config.commands.map((c) => c.id));
    }
    await new Help(this.config).showHelp(words);
  }
}
