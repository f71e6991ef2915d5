/**
 * When a process started, as an opaque token, so a lock can tell its owner from a later process that reuses the
 * pid. Linux: field 22 of /proc/PID/stat (starttime, clock ticks since boot; proc(5)), read after the last ")"
 * because the command name may hold spaces and parentheses. FreeBSD (no /proc by default): `/bin/ps -o lstart=
 * -p PID`, the start time ps(1) reads from kinfo_proc's ki_start (sys/sys/user.h), run by absolute path. Undefined
 * where neither works; the lock then falls back to the pid alone.
 */
import {execFileSync} from 'node:child_process';
import {readFileSync} from 'node:fs';

export function processStartTime(pid: number): string | undefined {
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] is field 3 (state), so starttime (field 22) is fields[19].
      return fields[19];
    } catch {
      return undefined;
    }
  }
  if (process.platform === 'freebsd') {
    try {
      const out = execFileSync('/bin/ps', ['-o', 'lstart=', '-p', String(pid)], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000}).trim();
      return out === '' ? undefined : out;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
