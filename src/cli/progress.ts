/**
 * Progress for long commands: a listr2 task list rendered on stderr (never stdout, so --json stays parseable),
 * redrawn in place on a terminal and one line per event otherwise (CI logs, pipes, and a serial console, whose
 * terminal reports 0 columns: redrawing in 0 columns printed one character per line). `quiet` prints nothing.
 * listr2 (and its renderers) is imported when a task list first runs, so commands that show none (help, plan,
 * status) never load it.
 */
import type {ListrTask} from 'listr2';

export type Step<C> = ListrTask<C>;

/** Whether stderr can take in-place redraws: a terminal that reports a width. */
export function redrawable(stream: NodeJS.WriteStream = process.stderr): boolean {
  return stream.isTTY === true && typeof stream.columns === 'number' && stream.columns > 0;
}

export async function runSteps<C extends object>(steps: Step<C>[], ctx: C, options: {quiet?: boolean} = {}): Promise<C> {
  const {Listr, ListrLogger, ProcessOutput} = await import('listr2');
  if (options.quiet === true) return new Listr<C, 'silent', 'silent'>(steps, {ctx, concurrent: false, exitOnError: true, renderer: 'silent'}).run();
  const logger = new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)});
  const list = new Listr<C>(steps, {
    ctx,
    concurrent: false,
    exitOnError: true,
    renderer: 'default',
    fallbackRenderer: 'simple',
    fallbackRendererCondition: () => !redrawable(),
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
