/**
 * A mock of the two C functions the native backend binds (FreeBSD sys/sys/kexec.h kexec_load, reboot(2)), built
 * with gcc into a temp dir, so tests never reach the real system calls. kexec_load logs its arguments to
 * $KEXEC_MOCK_LOG and writes each segment's buf to $KEXEC_MOCK_LOG.seg<i>; both functions fail with
 * errno = $KEXEC_MOCK_ERRNO when it is set. The environment is read at call time.
 */
import {spawnSync} from 'node:child_process';
import {existsSync, readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';

const MOCK_C = String.raw`
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct kexec_segment { const void *buf; size_t bufsz; uint64_t mem; uint64_t memsz; };

static int fail_if_asked(void) {
  const char *e = getenv("KEXEC_MOCK_ERRNO");
  if (e == NULL || *e == 0) return 0;
  errno = atoi(e);
  return -1;
}

int kexec_load(uint64_t entry, unsigned long nseg, struct kexec_segment *segs, unsigned long flags) {
  const char *log = getenv("KEXEC_MOCK_LOG");
  FILE *f = log ? fopen(log, "a") : NULL;
  if (f == NULL) { errno = EFAULT; return -1; }
  fprintf(f, "kexec_load entry=0x%llx nseg=%lu flags=%lu segs=%s\n", (unsigned long long)entry, nseg, flags,
          segs == NULL ? "null" : "ptr");
  for (unsigned long i = 0; i < nseg; i++) {
    fprintf(f, "seg %lu buf=0x%llx bufsz=0x%llx mem=0x%llx memsz=0x%llx\n", i,
            (unsigned long long)(uintptr_t)segs[i].buf, (unsigned long long)segs[i].bufsz,
            (unsigned long long)segs[i].mem, (unsigned long long)segs[i].memsz);
    char path[4096];
    snprintf(path, sizeof path, "%s.seg%lu", log, i);
    FILE *b = fopen(path, "wb");
    if (b != NULL) {
      if (segs[i].bufsz > 0) fwrite(segs[i].buf, 1, segs[i].bufsz, b);
      fclose(b);
    }
  }
  fclose(f);
  return fail_if_asked();
}

int reboot(int howto) {
  const char *log = getenv("KEXEC_MOCK_LOG");
  FILE *f = log ? fopen(log, "a") : NULL;
  if (f != NULL) { fprintf(f, "reboot howto=0x%x\n", (unsigned)howto); fclose(f); }
  return fail_if_asked();
}
`;

export function haveGcc(): boolean {
  return spawnSync('gcc', ['--version'], {stdio: 'ignore'}).status === 0;
}

/**
 * Builds DIR/libkexecmock.so and proves both symbols are defined in it (so dlsym can never fall through to the
 * C library's real reboot). Returns the library path.
 */
export function buildMock(dir: string): string {
  const src = join(dir, 'mock.c');
  const lib = join(dir, 'libkexecmock.so');
  writeFileSync(src, MOCK_C);
  const cc = spawnSync('gcc', ['-shared', '-fPIC', '-Wall', '-Werror', '-Wl,--no-undefined', '-o', lib, src], {encoding: 'utf8'});
  if (cc.status !== 0 || !existsSync(lib)) throw new Error(`gcc failed: ${cc.stderr}`);
  const nm = spawnSync('nm', ['-D', '--defined-only', lib], {encoding: 'utf8'});
  for (const sym of ['kexec_load', 'reboot']) {
    if (nm.status !== 0 || !new RegExp(`\\bT ${sym}$`, 'm').test(nm.stdout)) {
      throw new Error(`refusing to run: ${lib} does not define ${sym} (nm: ${nm.stderr || nm.stdout})`);
    }
  }
  return lib;
}

export interface LoggedSegment {
  readonly buf: bigint;
  readonly bufsz: bigint;
  readonly mem: bigint;
  readonly memsz: bigint;
}

export interface LoggedLoad {
  readonly entry: bigint;
  readonly nseg: number;
  readonly flags: number;
  readonly segsNull: boolean;
  readonly segments: LoggedSegment[];
}

export interface MockLog {
  readonly loads: LoggedLoad[];
  readonly reboots: number[];
}

/** Parses the mock's log (an absent log means no calls). */
export function readMockLog(path: string): MockLog {
  const loads: LoggedLoad[] = [];
  const reboots: number[] = [];
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  for (const line of text.split('\n')) {
    const load = /^kexec_load entry=(\S+) nseg=(\d+) flags=(\d+) segs=(\w+)$/.exec(line);
    const seg = /^seg \d+ buf=(\S+) bufsz=(\S+) mem=(\S+) memsz=(\S+)$/.exec(line);
    const reboot = /^reboot howto=(\S+)$/.exec(line);
    if (load !== null) {
      loads.push({entry: BigInt(load[1] ?? ''), nseg: Number(load[2]), flags: Number(load[3]), segsNull: load[4] === 'null', segments: []});
    } else if (seg !== null) {
      const last = loads[loads.length - 1];
      if (last === undefined) throw new Error(`segment line before any kexec_load: ${line}`);
      last.segments.push({buf: BigInt(seg[1] ?? ''), bufsz: BigInt(seg[2] ?? ''), mem: BigInt(seg[3] ?? ''), memsz: BigInt(seg[4] ?? '')});
    } else if (reboot !== null) {
      reboots.push(Number(reboot[1]));
    } else if (line !== '') {
      throw new Error(`unexpected mock log line: ${line}`);
    }
  }
  return {loads, reboots};
}
