/**
 * Which kexec-ts build the CLI tests run: this checkout, or another build named by KEXEC_TS_TEST_CLI_ROOT (how a
 * regression test is shown to fail on the code before its fix: build that commit, point this at it). Both the
 * in-process runner (cli.ts) and the subprocess runner (cli-process.ts) start from here.
 */
import {existsSync} from 'node:fs';
import {fileURLToPath} from 'node:url';

/** The project root (this file is test/helpers/cli-root.ts). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const CLI_ROOT = process.env.KEXEC_TS_TEST_CLI_ROOT ?? PROJECT_ROOT;
export const CLI_BIN = `${CLI_ROOT.replace(/\/?$/, '/')}bin/run.js`;
export const CLI_BUILT = existsSync(`${CLI_ROOT.replace(/\/?$/, '/')}dist/commands/inspect.js`);
/** The skip reason of every test that runs the CLI, in or out of process. */
export const CLI_SKIP: string | false = CLI_BUILT ? false : 'dist/ is not built (npm run build)';

/** What a finished command gave: its exit code and both streams. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}
