/**
 * The process entry (bin/run.js): oclif with every way of loading code from outside the installed package turned
 * off. By default @oclif/core reads `<dataDir>/package.json` on every command and loads the "user" and "link"
 * plugins it lists (their `init` hooks run before any command code), and dataDir follows HOME, XDG_DATA_HOME and
 * KEXEC_TS_DATA_DIR: under `sudo -E` or an `env_keep` list that is code run as root from a user's directory.
 * Dev plugins (package.json `oclif.devPlugins`) are off too. kexec-ts has no plugins; its commands are its own.
 */
import {Config, execute, type Interfaces} from '@oclif/core';

/**
 * The oclif configuration of the package at `root`, with user, linked and dev plugins disabled; `pjson` replaces
 * its package.json (the bundled entry, src/main.ts, points command discovery and hooks at the bundle).
 */
export async function loadCliConfig(root: string, pjson?: Interfaces.PJSON): Promise<Config> {
  return Config.load({root, userPlugins: false, devPlugins: false, ...(pjson === undefined ? {} : {pjson})});
}

/** Runs the command line `argv` (default: the process's) against the package at `root`. */
export async function main(root: string, argv: string[] = process.argv.slice(2)): Promise<unknown> {
  return execute({args: argv, loadOptions: await loadCliConfig(root)});
}
