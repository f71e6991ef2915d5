/**
 * The probe kernel's serial console protocol, read back from QEMU's console. The probe (examples/probe-kernel)
 * prints, one line each:
 *   PROBE BEGIN arch=<a> modulep=0x.. kernend=0x..     what it was entered with
 *   PROBE FILE name=<n> type=<t> addr=0x.. size=0x.. crc32=0x........   one per preloaded file (MODINFO_*)
 *   PROBE ENV <k>=<v>                                  one per kernel environment variable
 *   PROBE ROOT <fstype:device>                         one per vfs.root.mountfrom candidate, in order
 *   PROBE ACPI rsdp=0x..|invalid                       acpi.rsdp as the kernel parses it
 *   PROBE HINT <k>=<v>                                 one per hint.* variable
 *   PROBE MEMMAP name=<EFI_MAP|SMAP> type=0x.. size=0x.. entries=0x.. crc32=0x........   the memory map record
 *   PROBE FW_HANDLE 0x..                               MODINFOMD_FW_HANDLE
 *   PROBE HOWTO 0x..                                   MODINFOMD_HOWTO
 *   PROBE KERNEND 0x..                                 MODINFOMD_KERNEND
 *   PROBE OK | PROBE FAIL <reason>                     its verdict
 * Other console output (SeaBIOS, qemu-shim) is kept but ignored. A PROBE line may follow other text on the same
 * line (SeaBIOS ends "Booting from ROM.." without a newline), so the protocol starts at the first "PROBE ".
 * A name is everything up to the first " type=". The probe writes a type's spaces as "_" ("elf_obj_module"), so
 * the line stays unambiguous; the verdict accepts either spelling, and this parser takes spaces too.
 * A second BEGIN, ACPI, MEMMAP, FW_HANDLE, HOWTO or KERNEND line counts as malformed: the probe runs once per boot.
 */

export interface ProbeBegin {
  readonly arch: string;
  readonly modulep: bigint;
  readonly kernend: bigint;
}

export interface ProbeFile {
  readonly name: string;
  readonly type: string;
  readonly addr: bigint;
  readonly size: bigint;
  readonly crc32: number;
}

export interface ProbeMemmap {
  readonly name: string;
  readonly type: number;
  readonly size: number;
  readonly entries: number;
  readonly crc32: number;
}

export type ProbeVerdict = {readonly ok: true} | {readonly ok: false; readonly reason: string};

export interface ProbeTranscript {
  readonly begin?: ProbeBegin;
  readonly files: readonly ProbeFile[];
  /** In console order; a repeated name appears twice. */
  readonly env: readonly (readonly [string, string])[];
  /** vfs.root.mountfrom candidates, in console order. */
  readonly root: readonly string[];
  /** acpi.rsdp as parsed by the kernel; null when the kernel ignores the value. */
  readonly acpi?: bigint | null;
  readonly hints: readonly (readonly [string, string])[];
  readonly memmap?: ProbeMemmap;
  readonly fwHandle?: bigint;
  readonly howto?: bigint;
  readonly kernend?: bigint;
  /** The first verdict; lines after it are not read. */
  readonly verdict?: ProbeVerdict;
  /** PROBE lines that do not follow the protocol (1-based console line number and text). */
  readonly malformed: readonly {readonly line: number; readonly text: string}[];
}

const HEX = '(0x[0-9a-fA-F]+)';
const BEGIN = new RegExp(`^PROBE BEGIN arch=(\\S+) modulep=${HEX} kernend=${HEX}$`);
const FILE = new RegExp(`^PROBE FILE name=(.+?) type=(.+) addr=${HEX} size=${HEX} crc32=(0x[0-9a-fA-F]{1,8})$`);
const ENV = /^PROBE ENV ([^=]+)=(.*)$/;
const ROOT = /^PROBE ROOT (\S+)$/;
const ACPI = new RegExp(`^PROBE ACPI rsdp=(?:${HEX}|(invalid))$`);
const HINT = /^PROBE HINT ([^=]+)=(.*)$/;
const MEMMAP = new RegExp(`^PROBE MEMMAP name=(\\S+) type=${HEX} size=${HEX} entries=${HEX} crc32=(0x[0-9a-fA-F]{1,8})$`);
const FW_HANDLE = new RegExp(`^PROBE FW_HANDLE ${HEX}$`);
const HOWTO = new RegExp(`^PROBE HOWTO ${HEX}$`);
const KERNEND = new RegExp(`^PROBE KERNEND ${HEX}$`);
const FAIL = /^PROBE FAIL(?: (.*))?$/;

// CSI (ESC [ ... final byte) and OSC (ESC ] ... BEL or ESC \) sequences, then two-byte escapes (SeaBIOS starts with ESC c).
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-~]/g;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * A console line without terminal escape sequences, carriage returns or other control characters. Trailing blanks
 * stay: they are part of what the guest printed (an environment value such as acpi.oem="BOCHS " ends in one).
 */
export function cleanConsoleLine(raw: string): string {
  return raw.replace(ESCAPES, '').replace(CONTROLS, '');
}

/** The protocol part of a console line ("PROBE ..."), or undefined when the line carries none. */
export function probePart(line: string): string | undefined {
  const at = line.indexOf('PROBE ');
  return at < 0 ? undefined : line.slice(at);
}

/** True for PROBE OK and PROBE FAIL lines: the probe has nothing more to say. */
export function isVerdictLine(line: string): boolean {
  const p = probePart(line);
  return p !== undefined && (p === 'PROBE OK' || FAIL.test(p));
}

export function parseProbeConsole(lines: readonly string[]): ProbeTranscript {
  let begin: ProbeBegin | undefined;
  let howto: bigint | undefined;
  let kernend: bigint | undefined;
  let verdict: ProbeVerdict | undefined;
  let acpi: bigint | null | undefined;
  let memmap: ProbeMemmap | undefined;
  let fwHandle: bigint | undefined;
  const files: ProbeFile[] = [];
  const env: (readonly [string, string])[] = [];
  const root: string[] = [];
  const hints: (readonly [string, string])[] = [];
  const malformed: {line: number; text: string}[] = [];
  for (let i = 0; i < lines.length && verdict === undefined; i++) {
    const text = probePart(lines[i] ?? '');
    if (text === undefined) continue;
    let m: RegExpExecArray | null;
    if (text === 'PROBE OK') verdict = {ok: true};
    else if ((m = FAIL.exec(text)) !== null) verdict = {ok: false, reason: m[1]?.trim() || '(no reason given)'};
    else if ((m = BEGIN.exec(text)) !== null && begin === undefined) {
      begin = {arch: m[1] as string, modulep: BigInt(m[2] as string), kernend: BigInt(m[3] as string)};
    } else if ((m = FILE.exec(text)) !== null) {
      files.push({name: m[1] as string, type: m[2] as string, addr: BigInt(m[3] as string), size: BigInt(m[4] as string), crc32: Number(m[5])});
    } else if ((m = ENV.exec(text)) !== null) env.push([m[1] as string, m[2] as string]);
    else if ((m = ROOT.exec(text)) !== null) root.push(m[1] as string);
    else if ((m = ACPI.exec(text)) !== null && acpi === undefined) acpi = m[1] === undefined ? null : BigInt(m[1]);
    else if ((m = HINT.exec(text)) !== null) hints.push([m[1] as string, m[2] as string]);
    else if ((m = MEMMAP.exec(text)) !== null && memmap === undefined) {
      memmap = {name: m[1] as string, type: Number(m[2]), size: Number(m[3]), entries: Number(m[4]), crc32: Number(m[5])};
    } else if ((m = FW_HANDLE.exec(text)) !== null && fwHandle === undefined) fwHandle = BigInt(m[1] as string);
    else if ((m = HOWTO.exec(text)) !== null && howto === undefined) howto = BigInt(m[1] as string);
    else if ((m = KERNEND.exec(text)) !== null && kernend === undefined) kernend = BigInt(m[1] as string);
    else malformed.push({line: i + 1, text});
  }
  return {
    files, env, root, hints, malformed,
    ...(acpi === undefined ? {} : {acpi}),
    ...(memmap === undefined ? {} : {memmap}),
    ...(fwHandle === undefined ? {} : {fwHandle}),
    ...(begin === undefined ? {} : {begin}),
    ...(howto === undefined ? {} : {howto}),
    ...(kernend === undefined ? {} : {kernend}),
    ...(verdict === undefined ? {} : {verdict}),
  };
}
