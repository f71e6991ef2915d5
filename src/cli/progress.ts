/**
 * Progress for long commands: a listr2 task list rendered on stderr (never stdout, so --json stays parseable),
 * redrawn in place on a terminal and one line per event otherwise (CI logs, pipes).
 */
import {Listr, ListrLogger, ProcessOutput, type ListrTask} from 'listr2';

export type Step<C> = ListrTask<C>;

export async function runSteps<C extends object>(steps: Step<C>[], ctx: C): Promise<C> {
  const logger = new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)});
  const list = new Listr<C>(steps, {
    ctx,
    concurrent: false,
    exitOnError: true,
    renderer: 'default',
    fallbackRenderer: 'simple',
    fallbackRendererCondition: () => process.stderr.isTTY !== true,
    rendererOptions: {logger},
    fallbackRendererOptions: {logger},
  });
  return list.run();
}

/** "12.3 MiB" style sizes for progress lines. */
export function formatSize(bytes: bigint | number): string {
  const n = Number(bytes);
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
