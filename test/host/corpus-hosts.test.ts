/**
 * Real host dumps (../shared/corpus/freebsd-hosts, each folder's SOURCE.md says where it comes from) through the
 * host parsers, noise included, and host snapshots assembled from them at run time and planned against. Skipped
 * when the corpus is absent. Expected values are read off the dumps here, not taken from kexec-ts's output.
 */
import {after, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {parseKenv} from '../../src/host/kenv-text.js';
import {mountAt, parseMountP} from '../../src/host/mounts.js';
import {smapTextToXattr} from '../../src/host/smap-text.js';
import {parseUname, readSnapshot} from '../../src/host/snapshot.js';
import {parseLoaderConfText} from '../../src/image/freebsd/loader-conf.js';
import {rootFromFstab} from '../../src/image/freebsd/fstab.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import {buildFreeBsdKernel} from '../fixtures/freebsd-kernel.js';
import {CORPUS_DIR} from '../helpers/corpus.js';
import {decodeMetadata, readEnvironment, walkPreload} from '../helpers/modinfo-decoder.js';
import {PhysicalMemory} from '../helpers/physical-memory.js';

const HOSTS = join(CORPUS_DIR, 'freebsd-hosts');
const skip = existsSync(join(HOSTS, 'INDEX.md')) ? false : `${HOSTS} is absent`;
const read = (rel: string): string => readFileSync(join(HOSTS, rel), 'utf8');
const VBOX = 'amd64-bios-ufs-11.0-virtualbox-vm-zeebsd';
const GHOST = 'amd64-bios-zfs-ghostbsd-trueos-era-wiki-example';
const SMAP12 = 'amd64-bios-unknownver-prdanlz-author-12GB';
const work = mkdtempSync(join(tmpdir(), 'kexec-corpus-hosts-'));
after(() => rmSync(work, {recursive: true, force: true}));

describe('parsers over real dumps', {skip}, () => {
  test('kenv: the complete 11.0 dump, every line a variable', () => {
    const text = read(`${VBOX}/kenv`);
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const k = parseKenv(text, 'kenv');
    assert.equal(k.vars.length, lines.length);
    const get = (n: string): string | undefined => k.vars.find((v) => v.name === n)?.value;
    assert.equal(get('vfs.root.mountfrom'), 'ufs:/dev/ada0s1a');
    assert.equal(get('bootenv_root[2]'), '', 'empty values and [] in names');
    assert.equal(get('beansi_bootfs'), '^[1mbootfs: ^[m', 'escape sequences as the dump holds them');
  });

  test('kenv: a truncated page copy and a grep with its command line', () => {
    const g = parseKenv(read(`${GHOST}/kenv.partial`), 'kenv.partial');
    assert.equal(g.vars.find((v) => v.name === 'currdev')?.value, 'zfs:tank/ROOT/initial:');
    const u = parseKenv(read('arm64-uefi-acpi-15.0-CURRENT-rpi5-edk2-markmi/kenv-grep-uart.txt'), 'kenv-grep-uart.txt');
    assert.deepEqual(u.vars.map((v) => v.name), ['hw.uart.console'], 'the "# kenv | grep" line is a comment');
  });

  test('fstab: the root line of a VM image, none on a ZFS+GELI laptop (getrootmount)', () => {
    assert.deepEqual(rootFromFstab(read('amd64-bios-ufs-10.2-digitalocean-kvm-vm-image-dch-OUT-OF-RANGE/fstab'))?.mountfrom, 'ufs:/dev/gpt/rootfs');
    assert.equal(rootFromFstab(read('amd64-uefi-zfs-geli-unknownver-dell-xps-napoleonwils0n/fstab')), undefined, 'ZFS: no "/" line');
  });

  test('loader.conf as people write it: banners, unquoted values, no malformed line', () => {
    const lines = parseLoaderConfText(read('amd64-uefi-zfs-geli-unknownver-dell-xps-napoleonwils0n/loader.conf'));
    assert.deepEqual(lines.filter((l) => l.kind === 'malformed'), []);
    assert.ok(lines.some((l) => l.kind === 'module' && l.module === 'zfs' && l.field === 'load' && l.value === 'YES'));
    assert.ok(lines.some((l) => l.kind === 'env' && l.name === 'net.fibs' && l.value === '2'), 'an unquoted number');
    const dual = parseLoaderConfText(read('amd64-bios-ufs-10.2-digitalocean-kvm-vm-image-dch-OUT-OF-RANGE/loader.conf'));
    assert.deepEqual(dual.map((l) => (l.kind === 'env' ? [l.name, l.value] : l.kind)), [['console', 'vidconsole,comconsole'], ['autoboot_delay', '10']]);
  });

  test('mount -p of a gmirror server: / is the mirror', () => {
    const m = mountAt(parseMountP(read('amd64-ufs-gmirror-14.4-atom-d525-server-trouble-free/mount-p_df-k.txt')), '/');
    assert.deepEqual([m?.device, m?.fstype], ['/dev/mirror/root', 'ufs']);
  });

  test('uname -a lines, with the prompt line people paste', () => {
    assert.deepEqual(parseUname(read(`${VBOX}/uname`)), {release: '11.0-RELEASE-p9', machine: 'amd64'});
    assert.deepEqual(parseUname(read('amd64-ufs-gmirror-14.4-atom-d525-server-trouble-free/uname')), {release: '14.4-RELEASE-p10', machine: 'amd64'});
  });

  test('sysctl machdep.smap text: 20 entries, as bios_smap_xattr bytes', () => {
    const text = read(`${SMAP12}/sysctl-machdep.smap.txt`);
    const rows = text.split('\n').filter((l) => l.startsWith('SMAP '));
    const bytes = smapTextToXattr(text, 'smap');
    assert.equal(bytes.length, rows.length * 24);
    const dv = new DataView(bytes.buffer);
    const last = /base=([0-9a-f]+), len=([0-9a-f]+)/.exec(rows[rows.length - 1] as string);
    assert.equal(dv.getBigUint64((rows.length - 1) * 24, true), BigInt(`0x${last?.[1] ?? ''}`));
    assert.equal(dv.getBigUint64((rows.length - 1) * 24 + 8, true), BigInt(`0x${last?.[2] ?? ''}`));
  });
});

/** A snapshot directory from corpus files (name -> text). */
function snapshot(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), {recursive: true});
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

async function planEnv(dir: string, force = false): Promise<{env: Map<string, string>; md: ReturnType<typeof decodeMetadata>; notes: readonly string[]}> {
  const kernel = join(work, 'kernel-amd64');
  writeFileSync(kernel, buildFreeBsdKernel({arch: 'amd64', version: 1400000}));
  const {plan} = await planFiles({image: kernel, modules: [], host: await readSnapshot(dir), force});
  if (plan.handoff.kind !== 'freebsd') throw new Error('not a FreeBSD plan');
  const mem = PhysicalMemory.ofSegments(plan.segments);
  const md = decodeMetadata(walkPreload(mem, plan.handoff.metadata).files[0] as never, 'amd64');
  const env = new Map(readEnvironment(mem, ((md.envp ?? 0n) + plan.handoff.physOffset) & ((1n << 64n) - 1n)).vars);
  return {env, md, notes: plan.notes};
}

describe('snapshots assembled from real dumps', {skip}, () => {
  test('VirtualBox 11.0, kenv and uname only: the running root, ACPI and hints are carried', async () => {
    const kenv = read(`${VBOX}/kenv`);
    const {env, notes} = await planEnv(snapshot('vbox', {kenv, uname: read(`${VBOX}/uname`)}));
    const want = new Map(kenv.split('\n').flatMap((l) => {
      const m = /^([^=]+)="(.*)"$/.exec(l);
      return m === null ? [] : [[m[1] as string, m[2] as string] as [string, string]];
    }));
    assert.equal(env.get('vfs.root.mountfrom'), want.get('vfs.root.mountfrom'));
    assert.equal(env.get('vfs.root.mountfrom.options'), want.get('vfs.root.mountfrom.options'));
    assert.ok(notes.some((n) => n.startsWith('the root file system is the running one (ufs:/dev/ada0s1a')), notes.join(' | '));
    assert.equal(env.get('acpi.rsdp'), want.get('acpi.rsdp'));
    for (const [k, v] of want) if (k.startsWith('hint.')) assert.equal(env.get(k), v, k);
    assert.equal(env.get('kernelname'), join(work, 'kernel-amd64'), 'kernelname: the kernel planned, absolute');
  });

  test('GhostBSD on ZFS, truncated kenv: the root is the loader\'s currdev dataset', async () => {
    const dir = snapshot('ghost', {kenv: read(`${GHOST}/kenv.partial`), uname: 'FreeBSD ghost 12.1-STABLE GhostBSD amd64\n'});
    // Without zfs.ko in the snapshot's /boot, the root cannot be mounted: refused before anything is planned.
    await assert.rejects(planEnv(dir), (e: Error & {code?: number}) => e.code === 4 && /file system module for the root \(zfs\)/.test(e.message));
    const {env, notes} = await planEnv(dir, true);
    assert.equal(env.get('vfs.root.mountfrom'), 'zfs:tank/ROOT/initial');
    assert.ok(notes.some((n) => n.startsWith('--force: planned despite: file system module for the root (zfs)')));
  });

  test('a BIOS machine\'s `sysctl machdep.smap` pasted into sysctl.txt becomes its MODINFOMD_SMAP', async () => {
    const text = read(`${SMAP12}/sysctl-machdep.smap.txt`);
    const dump = text.slice(text.indexOf('machdep.smap:'));
    const {md} = await planEnv(snapshot('smap12', {'sysctl.txt': `hw.machine=amd64\nmachdep.bootmethod=BIOS\n${dump}`, kenv: 'vfs.root.mountfrom="ufs:/dev/ada0s1a"\n'}));
    const rows = dump.split('\n').filter((l) => l.startsWith('SMAP '));
    assert.equal(md.smap?.length, rows.length);
    rows.forEach((r, i) => {
      const m = /type=([0-9a-f]+), xattr=[0-9a-f]+, base=([0-9a-f]+), len=([0-9a-f]+)/.exec(r);
      assert.deepEqual(md.smap?.[i], {base: BigInt(`0x${m?.[2] ?? ''}`), length: BigInt(`0x${m?.[3] ?? ''}`), type: Number.parseInt(m?.[1] ?? '', 16)});
    });
  });
});
