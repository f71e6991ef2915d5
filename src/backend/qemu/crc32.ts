/**
 * CRC-32 as zlib computes it (IEEE 802.3 polynomial, reflected 0xedb88320, initial and final XOR 0xffffffff), so
 * the QEMU backend can check the crc32 a probe kernel reports for every file against the bytes the plan put
 * there. Node 20 has no zlib.crc32 (it arrived in Node 22.2), hence this small table-driven version.
 */

const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * The CRC-32 of `data`, continuing from `previous` (the result of an earlier call over the bytes before it, as
 * with zlib's crc32(crc, buf, len)); crc32(a ++ b) === crc32(b, crc32(a)).
 */
export function crc32(data: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) {
    c = (TABLE[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** `0x` and eight lower-case hex digits, the form the probe protocol prints. */
export function crc32Hex(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}
