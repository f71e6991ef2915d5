/**
 * The clean exec: shut this FreeBSD host down the way init(8) and reboot(8) do, then reboot(RB_KEXEC).
 *
 * Why kexec-ts does it itself: only reboot(2) with RB_KEXEC in howto runs the staged image
 * (sys/kern/kern_kexec.c, the shutdown_final handler kexec_reboot), and neither FreeBSD program can pass that bit.
 * sbin/init/init.c fixes howto per signal in transition_handler (SIGINT reboot, SIGUSR1 halt, SIGUSR2 power off,
 * SIGWINCH power cycle), and sbin/reboot/reboot.c builds howto from its own options, none of them RB_KEXEC. The
 * other way, an /etc/rc.final hook (init.c runfinal, run after every process is gone and just before init's own
 * reboot(howto)), is offered as templates/rc.final.sh, but init runs rc.final with no argument for every kind of
 * shutdown (reboot, halt, power off alike), so it needs an explicit arming step (see that file).
 *
 * The sequence, each step citing where FreeBSD does the same:
 *   syslog        logger -p auth.crit (reboot.c: openlog("reboot", 0, LOG_AUTH), syslog(LOG_CRIT, "rebooted by"))
 *   hold-signals  ignore HUP INT QUIT TERM TSTP PIPE, so our own kill(-1) and a dying terminal cannot stop us
 *                 half way (reboot.c, the same six signals)
 *   stop-logins   kill(1, SIGTSTP): init stops respawning gettys (reboot.c; init.c transition_handler -> catatonia)
 *   rc-shutdown   /etc/rc.shutdown reboot, unless absent, with init's timeout: sysctl kern.init_shutdown_timeout,
 *                 120 s (DEATH_SCRIPT) when unreadable or below 2; on timeout SIGTERM to the script and go on
 *                 (init.c runshutdown)
 *   utmpx         utx shutdown when there is no rc.shutdown (rc.shutdown's rc.d/utx writes the record otherwise;
 *                 reboot.c writes it with utx_logout-style SHUTDOWN_TIME)
 *   sync          sync(8)
 *   terminate     kill(-1, SIGTERM); sleep 2 s, then up to 20 rounds of sync + 3 s while the swap page-in count
 *                 (vm.stats.vm.v_swappgsin) still moves (reboot.c get_pageins loop)
 *   kill          kill(-1, SIGKILL) up to 6 times, sleeping 2*i s between tries, until ESRCH (reboot.c)
 *   reboot        reboot(RB_KEXEC as recorded at load); on failure kill(1, SIGHUP) so init comes back (reboot.c
 *                 restart:), and the error is reported
 * kill(-1, sig) reaches every process but the caller and system processes (kill(2)), so kexec-ts survives it.
 * Every effect goes through SystemOps, so tests run the sequence against stub commands and a recording signaller.
 */
import {KexecError} from '../../errors.js';

/** The programs the sequence runs, by absolute path: a root tool does not search PATH. */
export interface ShutdownPaths {
  readonly logger: string;
  readonly utx: string;
  readonly sync: string;
  readonly sysctl: string;
  readonly rcShutdown: string;
}

export const FREEBSD_SHUTDOWN_PATHS: ShutdownPaths = {
  logger: '/usr/bin/logger', utx: '/usr/sbin/utx', sync: '/bin/sync', sysctl: '/sbin/sysctl', rcShutdown: '/etc/rc.shutdown',
};

/** init.c DEATH_SCRIPT: rc.shutdown's time limit when kern.init_shutdown_timeout cannot be used. */
export const DEATH_SCRIPT_SECONDS = 120;

export type ShutdownSignal = 'SIGTSTP' | 'SIGTERM' | 'SIGKILL' | 'SIGHUP';

export interface RunResult {
  /** Exit status, or null when killed by a signal or not started. */
  readonly status: number | null;
  readonly timedOut: boolean;
  /** Standard output (trimmed), for sysctl. */
  readonly stdout: string;
  /** Why it did not run (ENOENT, EACCES...), when it did not. */
  readonly error?: string;
}

/** Everything the sequence does to the system. */
export interface SystemOps {
  /**
   * Runs a program; on timeout it is sent SIGTERM (as init does to rc.shutdown). Its output goes to stderr (the
   * console, as init gives rc.shutdown) unless `capture` asks for stdout.
   */
  run(file: string, args: readonly string[], options?: {timeoutMs?: number; capture?: boolean}): Promise<RunResult>;
  /** kill(pid, sig): 'ok', 'ESRCH' when no process matched, or another errno name. */
  signal(pid: number, sig: ShutdownSignal): string;
  sleep(ms: number): Promise<void>;
  exists(path: string): boolean;
  /** Ignore HUP INT QUIT TERM TSTP PIPE from now on. */
  holdSignals(): void;
  /** A progress line on stderr (never throws, even when the terminal is gone). */
  say(line: string): void;
}

export interface CleanExecRequest {
  readonly howto: number;
  readonly kernel: string;
  readonly modules: readonly string[];
  readonly digest: string;
  readonly user: string;
  readonly paths: ShutdownPaths;
}

/** One step as `exec --dry-run` prints it. */
export interface ShutdownStep {
  readonly id: 'syslog' | 'hold-signals' | 'stop-logins' | 'rc-shutdown' | 'utmpx' | 'sync' | 'terminate' | 'kill' | 'reboot';
  readonly action: string;
}

function rebootMessage(r: CleanExecRequest): string {
  const mods = r.modules.length === 0 ? '' : ` with ${r.modules.join(', ')}`;
  return `kexec reboot by ${r.user}: ${r.kernel}${mods} (plan ${r.digest.slice(0, 16)})`;
}

/** rc.shutdown's limit: kern.init_shutdown_timeout when it reads as an integer >= 2, else DEATH_SCRIPT. */
export async function shutdownTimeout(ops: SystemOps, paths: ShutdownPaths): Promise<{seconds: number; source: string}> {
  const r = await ops.run(paths.sysctl, ['-n', 'kern.init_shutdown_timeout'], {capture: true});
  const v = r.status === 0 && /^\d+$/.test(r.stdout) ? Number(r.stdout) : NaN;
  return v >= 2 ? {seconds: v, source: 'kern.init_shutdown_timeout'} : {seconds: DEATH_SCRIPT_SECONDS, source: 'init\'s default (DEATH_SCRIPT)'};
}

/** What the clean exec will do, in order, with the values it will use. */
export async function describeCleanExec(r: CleanExecRequest, ops: SystemOps): Promise<ShutdownStep[]> {
  const p = r.paths;
  const rc = ops.exists(p.rcShutdown);
  const t = await shutdownTimeout(ops, p);
  const howto = `0x${(r.howto >>> 0).toString(16)}`;
  return [
    {id: 'syslog', action: `${p.logger} -p auth.crit -t kexec-ts -- "${rebootMessage(r)}"`},
    {id: 'hold-signals', action: 'ignore SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGTSTP and SIGPIPE from here on'},
    {id: 'stop-logins', action: 'kill(1, SIGTSTP): init(8) stops starting logins'},
    {id: 'rc-shutdown', action: rc ? `${p.rcShutdown} reboot, at most ${t.seconds} s (${t.source}), then SIGTERM to it` : `${p.rcShutdown} does not exist: skipped, as init(8) does`},
    {id: 'utmpx', action: rc ? 'left to rc.shutdown (rc.d/utx writes the shutdown record)' : `${p.utx} shutdown`},
    {id: 'sync', action: p.sync},
    {id: 'terminate', action: `kill(-1, SIGTERM); wait 2 s, then up to 20 x (${p.sync}, 3 s) while vm.stats.vm.v_swappgsin changes`},
    {id: 'kill', action: 'kill(-1, SIGKILL) up to 6 times, 2, 4, ... 10 s apart, until no process is left'},
    {id: 'reboot', action: `reboot(${howto}) (RB_KEXEC as recorded at load): boots ${r.kernel}; on failure kill(1, SIGHUP) restarts init`},
  ];
}

async function pageins(ops: SystemOps, p: ShutdownPaths): Promise<string> {
  return (await ops.run(p.sysctl, ['-n', 'vm.stats.vm.v_swappgsin'], {capture: true})).stdout;
}

/**
 * Runs the shutdown, then `reboot` (which must not return on success). A failing step before the kill is
 * reported and the sequence goes on, as init and reboot(8) go on; a reboot that returns restarts init and throws.
 */
export async function cleanExec(r: CleanExecRequest, ops: SystemOps, reboot: () => Promise<never>): Promise<never> {
  const p = r.paths;
  const log = await ops.run(p.logger, ['-p', 'auth.crit', '-t', 'kexec-ts', '--', rebootMessage(r)]);
  if (log.status !== 0) ops.say(`warning: ${p.logger} failed (${log.error ?? `status ${String(log.status)}`}); the reboot is not in syslog`);
  ops.holdSignals();
  ops.say('stopping logins: kill(1, SIGTSTP)');
  const tstp = ops.signal(1, 'SIGTSTP');
  if (tstp !== 'ok') ops.say(`warning: kill(1, SIGTSTP): ${tstp}`);

  if (ops.exists(p.rcShutdown)) {
    const t = await shutdownTimeout(ops, p);
    ops.say(`running ${p.rcShutdown} reboot (at most ${t.seconds} s)`);
    const rc = await ops.run(p.rcShutdown, ['reboot'], {timeoutMs: t.seconds * 1000});
    if (rc.timedOut) ops.say(`warning: ${p.rcShutdown} did not finish in ${t.seconds} s; sent SIGTERM and going on, as init does`);
    else if (rc.status !== 0) ops.say(`warning: ${p.rcShutdown} ${rc.error ?? `returned status ${String(rc.status)}`}; going on, as init does`);
  } else {
    ops.say(`${p.rcShutdown} does not exist: skipped; recording the shutdown in utmpx`);
    const utx = await ops.run(p.utx, ['shutdown']);
    if (utx.status !== 0) ops.say(`warning: ${p.utx} shutdown failed (${utx.error ?? `status ${String(utx.status)}`})`);
  }
  await ops.run(p.sync, []);

  ops.say('terminating all processes: kill(-1, SIGTERM)');
  if (ops.signal(-1, 'SIGTERM') === 'ok') {
    await ops.sleep(2000);
    let before = await pageins(ops, p);
    for (let i = 0; i < 20; i++) {
      await ops.run(p.sync, []);
      await ops.sleep(3000);
      const now = await pageins(ops, p);
      if (now === before) break;
      before = now;
    }
  }
  ops.say('killing what is left: kill(-1, SIGKILL)');
  for (let i = 1; ; i++) {
    const k = ops.signal(-1, 'SIGKILL');
    if (k !== 'ok') break;
    if (i > 5) {
      ops.say('warning: some processes would not die; ps axl advised');
      break;
    }
    await ops.sleep(2000 * i);
  }

  ops.say(`reboot(0x${(r.howto >>> 0).toString(16)}): into ${r.kernel}`);
  try {
    return await reboot();
  } catch (e) {
    const init = ops.signal(1, 'SIGHUP');
    const why = e instanceof Error ? e.message : String(e);
    throw new KexecError('backend', `${why}; ${init === 'ok' ? 'init was sent SIGHUP to restart logins' : `init could not be restarted (kill(1, SIGHUP): ${init})`}`, {
      reason: e instanceof KexecError ? e.reason : 'reboot-failed',
      hint: 'the shutdown already ran: services are stopped; reboot normally (shutdown -r now) or start them again',
      cause: e,
    });
  }
}
