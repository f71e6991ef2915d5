/**
 * The QEMU backend's CRC-32 (src/backend/qemu/crc32.ts) against published check values and against zlib itself:
 * a gzip member's trailer holds zlib's CRC-32 of the uncompressed bytes, which Node 20 can produce (it has no
 * zlib.crc32), so random buffers are checked against an independent implementation.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {randomBytes} from 'node:crypto';
import {gzipSync} from 'node:zlib';
import {crc32, crc32Hex} from '../../src/backend/qemu/crc32.js';

const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** zlib's CRC-32 of `data`, read from the trailer of a gzip member (RFC 1952: CRC32 then ISIZE, little-endian). */
function zlibCrc32(data: Uint8Array): number {
  const gz = gzipSync(data);
  return gz.readUInt32LE(gz.length - 8);
}

const VECTORS: {name: string; data: Uint8Array; crc: number}[] = [
  {name: 'empty input', data: new Uint8Array(0), crc: 0x00000000},
  {name: 'the CRC-32 check value "123456789"', data: ascii('123456789'), crc: 0xcbf43926},
  {name: 'one byte "a"', data: ascii('a'), crc: 0xe8b7be43},
  {name: 'the quick brown fox', data: ascii('The quick brown fox jumps over the lazy dog'), crc: 0x414fa339},
  {name: 'one zero byte', data: new Uint8Array(1), crc: 0xd202ef8d},
  {name: '32 bytes of 0xff', data: new Uint8Array(32).fill(0xff), crc: 0xff6cab0b},
];

for (const v of VECTORS) {
  test(`crc32: ${v.name} = ${crc32Hex(v.crc)}`, () => {
    assert.equal(crc32(v.data), v.crc);
    assert.equal(zlibCrc32(v.data), v.crc, 'zlib agrees on the vector itself');
  });
}

test('crc32 equals zlib on random buffers of awkward sizes (0 to 1 MiB + 3)', () => {
  for (const n of [1, 7, 255, 256, 4095, 65537, (1 << 20) + 3]) {
    const data = randomBytes(n);
    assert.equal(crc32(data), zlibCrc32(data), `${n} bytes`);
  }
});

test('crc32 continues from a previous value like zlib: crc32(b, crc32(a)) = crc32(a ++ b)', () => {
  const data = randomBytes(10000);
  for (const cut of [0, 1, 4999, 10000]) {
    assert.equal(crc32(data.subarray(cut), crc32(data.subarray(0, cut))), crc32(data), `split at ${cut}`);
  }
});

test('crc32Hex pads to eight digits; results are unsigned', () => {
  assert.equal(crc32Hex(0), '0x00000000');
  assert.equal(crc32Hex(0xcbf43926), '0xcbf43926');
  assert.ok(crc32(ascii('123456789')) > 0, 'never negative');
});
