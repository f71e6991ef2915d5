/**
 * Issue 9, Must-show 4: what no FreeBSD loader would boot is refused at planning (exit 4), before any backend
 * sees it, with one line naming the file and the reason: a kernel of the other architecture for the machine
 * (a sim or qemu machine profile, or a host snapshot's `uname -m`), userland programs (/bin/ls, the corpus'
 * FreeBSD `hello`: PT_INTERP names a dynamic linker), and kernel environment strings the kernel would drop
 * (sys/kern/kern_environment.c init_dynamic_kenv_from: KENV_MNAMELEN 128 for names, name=value over
 * KENV_MNAMELEN + 1 + KENV_MVALLEN bytes).
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {CORPUS_DIR, PROJECT_ROOT} from '../helpers/corpus.js';
import {IN_PROCESS_SKIP, cli} from '../helpers/cli.js';

const PROBE = join(PROJECT_ROOT, 'examples', 'probe-kernel', 'build');
const AMD64 = join(PROBE, 'amd64', 'kernel');
const ARM64 = join(PROBE, 'arm64', 'kernel');
const HOSTS = join(PROJECT_ROOT, 'test', 'fixtures', 'hosts');
const HELLO = join(CORPUS_DIR, 'elf-misc', 'hello-freebsd-x86_64');
const skip = IN_PROCESS_SKIP !== false ? IN_PROCESS_SKIP : existsSync(AMD64) && existsSync(ARM64) ? false : 'the probe kernels are not built';

async function refused(args: string[], message: RegExp): Promise<void> {
  const r = await cli(args);
  assert.equal(r.code, 4, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  const line = r.stderr.split('\n').find((l) => l.startsWith('kexec-ts: ')) ?? '';
  assert.match(line, message);
  assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
}

test('a kernel of the other architecture: sim and qemu machine profiles, host snapshots, both ways', {skip}, async () => {
  await refused(['load', '--dry-run', '--backend', 'sim', '--profile', 'amd64-4g', ARM64], /an arm64 image \(EM_AARCH64\) cannot boot on profile amd64-4g, which is amd64$/);
  await refused(['load', '--dry-run', '--backend', 'sim', '--profile', 'arm64-virt-2g', AMD64], /an amd64 image \(EM_X86_64\) cannot boot on profile arm64-virt-2g, which is arm64$/);
  await refused(['load', '--dry-run', '--backend', 'qemu', '--profile', 'qemu-amd64-1g', ARM64], /cannot boot on profile qemu-amd64-1g, which is amd64$/);
  await refused(['load', '--dry-run', '--backend', 'qemu', '--profile', 'arm64-virt-2g', AMD64], /cannot boot on profile arm64-virt-2g, which is arm64$/);
  await refused(['plan', '--host', join(HOSTS, 'amd64-uefi-zfs'), ARM64], /cannot boot on host snapshot .*amd64-uefi-zfs, which is amd64$/);
  await refused(['plan', '--host', join(HOSTS, 'arm64-uefi-acpi'), AMD64], /cannot boot on host snapshot .*arm64-uefi-acpi, which is arm64$/);
});

test('userland programs are not kernels: /bin/ls and FreeBSD hello', {skip}, async () => {
  if (existsSync('/bin/ls')) await refused(['plan', '/bin/ls'], /^kexec-ts: \/bin\/ls: is a program \(PT_INTERP ".+"\), not a bootable image$/);
  if (existsSync(HELLO)) await refused(['plan', HELLO], /hello-freebsd-x86_64: is a program \(PT_INTERP "\/libexec\/ld-elf\.so\.1"\), not a bootable image$/);
});

test('kernel environment strings the kernel would drop are refused, naming the variable', {skip}, async () => {
  await refused(['plan', AMD64, '--env', `long.value=${'v'.repeat(300)}`], /environment variable long\.value \(--env\): "name=value" is 311 bytes; the kernel drops strings over 257/);
  await refused(['plan', AMD64, '--env', `${'n'.repeat(129)}=1`], /its name is 129 bytes, more than KENV_MNAMELEN \(128/);
  const r = await cli(['plan', AMD64, '--env', `ok.value=${'v'.repeat(300)}`, '--env', 'kenv_mvallen=512']);
  assert.equal(r.code, 0, `a larger kenv_mvallen tunable makes room: ${r.stderr}`);
});
