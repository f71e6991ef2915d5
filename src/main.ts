/**
 * The entry of the bundled CLI (dist/kexec-ts.cjs, written by scripts/bundle.mjs; bin/run.js runs it). Every
 * command and hook is imported here, so oclif finds them all in this one file (its "explicit" command discovery,
 * and hooks by identifier) instead of importing dist/commands/*.js and their module graphs file by file: start-up
 * reads and compiles one script. oclif is configured as src/cli/main.ts says (no user, link or dev plugins), with
 * package.json read once and only the command discovery and hook targets pointed at the bundle. Tests and oclif
 * tooling keep using dist/ through package.json; both paths run the same classes.
 */
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {execute, settings, type Interfaces} from '@oclif/core';
import {loadCliConfig} from './cli/main.js';
import {engineWarning} from './cli/node-engine.js';
import ExecCommand from './commands/exec.js';
import HelpCommand from './commands/help.js';
import HostCapture from './commands/host/capture.js';
import InitCommand from './commands/init.js';
import InspectCommand from './commands/inspect.js';
import LoadCommand from './commands/load.js';
import PlanCommand from './commands/plan.js';
import StatusCommand from './commands/status.js';
import UnloadCommand from './commands/unload.js';

export const COMMANDS = {
  exec: ExecCommand,
  help: HelpCommand,
  'host:capture': HostCapture,
  init: InitCommand,
  inspect: InspectCommand,
  load: LoadCommand,
  plan: PlanCommand,
  status: StatusCommand,
  unload: UnloadCommand,
};

/** package.json's oclif.hooks, compiled in (oclif would import() the files, which a vm.Script cannot do). */
export {default as command_not_found} from './cli/command-not-found.js';
export const HOOK_EVENTS = ['command_not_found'] as const;

/**
 * Runs the CLI. `root` is the package directory, `bundle` the path of this file once bundled (relative to root),
 * which oclif loads as the command and hook target: bin/run.js has already put it in the require cache, so that
 * "load" is a lookup, not a second copy.
 */
export async function main(root: string, bundle: string, args: string[]): Promise<unknown> {
  // Compiled code only: never look for TypeScript sources to transpile (oclif would under NODE_ENV=development).
  settings.enableAutoTranspile = false;
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Interfaces.PJSON;
  const warning = engineWarning(pjson.engines?.node, process.versions.node);
  if (warning !== undefined) process.stderr.write(`${warning}\n`);
  const oclif = {
    ...pjson.oclif,
    commands: {strategy: 'explicit' as const, target: bundle, identifier: 'COMMANDS'},
    hooks: Object.fromEntries(HOOK_EVENTS.map((event) => [event, {target: bundle, identifier: event}])),
  };
  return execute({args, loadOptions: await loadCliConfig(root, {...pjson, oclif})});
}
