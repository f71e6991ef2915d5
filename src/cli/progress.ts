/**
 * Progress for long commands: a listr2 task list rendered on stderr (never stdout, so --json stays parseable),
 * redrawn in place on a terminal and one line per event otherwise (CI logs, pipes, and a serial console, whose
 * terminal reports 0 columns: redrawing in 0 columns printed one character per line). `quiet` prints nothing.
 * listr2 (and its renderers) is imported when a task list first runs, so commands that show none (help, plan,
 * status) never load it.
 */
import type {ListrLogger as Logger, ListrTask} from 'listr2';
import {escapeLine} from '../render/output-hygiene.js';

export type Step<C> = ListrTask<C>;

/**
 * The step with its title, and every title its task sets, shown with control characters escaped: titles name
 * input files, and a file name can hold a terminal escape sequence (or a newline that fakes a progress line).
 */
function escapedStep<C>(step: Step<C>): Step<C> {
  const title = typeof step.title === 'string' ? escapeLine(step.title) : step.title;
  return {
    ...step,
    title,
    task: (ctx, task) => step.task(ctx, new Proxy(task, {
      set: (t, key, value: unknown) => Reflect.set(t, key, key === 'title' && typeof value === 'string' ? escapeLine(value) : value),
    })),
  };
}

/** listr2's logger for the line-per-event renderer, writing messages and their [FAILED: ...] fields escaped. */
function escapingLogger(L: typeof Logger, options: ConstructorParameters<typeof Logger>[0]): Logger {
  const escapeField = (f: unknown): unknown => {
    if (typeof f === 'string') return escapeLine(f);
    if (typeof f === 'object' && f !== null && 'field' in f && typeof f.field === 'string') return {...f, field: escapeLine(f.field)};
    return f;
  };
  /** A prefix or suffix option: one field or a list of them. */
  const escapeFields = (x: unknown): unknown => (Array.isArray(x) ? x.map(escapeField) : escapeField(x));
  return new (class extends L {
    override log(...[level, message, opts]: Parameters<Logger['log']>): void {
      const text = typeof message === 'string' ? escapeLine(message) : message;
      const fields = opts === undefined ? undefined : {
        ...opts,
        ...(opts.suffix === undefined ? {} : {suffix: escapeFields(opts.suffix)}),
        ...(opts.prefix === undefined ? {} : {prefix: escapeFields(opts.prefix)}),
      };
      super.log(level, text, fields as typeof opts);
    }
  })(options);
}

/** Whether stderr can take in-place redraws: a terminal that reports a width. */
export function redrawable(stream: NodeJS.WriteStream = process.stderr): boolean {
  return stream.isTTY === true && typeof stream.columns === 'number' && stream.columns > 0;
}

export async function runSteps<C extends object>(steps: Step<C>[], ctx: C, options: {quiet?: boolean} = {}): Promise<C> {
  const {Listr, ListrLogger, ProcessOutput} = await import('listr2');
  if (options.quiet === true) return new Listr<C, 'silent', 'silent'>(steps, {ctx, concurrent: false, exitOnError: true, renderer: 'silent'}).run();
  const logger = escapingLogger(ListrLogger, {processOutput: new ProcessOutput(process.stderr, process.stderr)});
  // The failed step shows its title, not the error: the error is printed once, escaped, by the base command.
  const list = new Listr<C>(steps.map(escapedStep), {
    ctx,
    concurrent: false,
    exitOnError: true,
    renderer: 'default',
    fallbackRenderer: 'simple',
    fallbackRendererCondition: () => !redrawable(),
    rendererOptions: {logger, showErrorMessage: false},
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
