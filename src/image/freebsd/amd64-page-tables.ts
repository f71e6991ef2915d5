/**
 * The page tables btext needs on amd64, laid out as stand/kboot/kboot/arch/amd64/elf64_freebsd.c builds them (and
 * as sys/amd64/amd64/machdep.c amd64_loadaddr() reads them back): nine 4 KiB pages
 *   PT4, PT3_l, PT3_u, PT2_l0..PT2_l3, PT2_u0, PT2_u1
 *   PT4[0] -> PT3_l -> PT2_l0..3: identity map of 0-4 GiB in 2 MiB pages;
 *   PT4[511] -> PT3_u; PT3_u[510] -> PT2_u0, PT3_u[511] -> PT2_u1: the top 2 GiB (KERNBASE..);
 *   PT2_u0[0] = PA 0 (the kernel's "compat mapping of phys @0"); PT2_u0/u1[i] = base + i * 2 MiB for i = 1..1023,
 *   so KERNSTART (KERNBASE + 2 MiB) maps to base + 2 MiB = kernphys, a 2 MiB leaf as amd64_loadaddr() requires.
 * The tables are walked through their physical addresses, so they must sit in identity-mapped memory below 4 GiB.
 * Entries carry only PG_V | PG_RW (| PG_PS), like the loader's.
 */

const PG_V = 0x1n;
const PG_RW = 0x2n;
const PG_PS = 0x80n;
const PAGE = 0x1000;
const NBPDR = 0x200000n;
export const AMD64_PAGE_TABLE_PAGES = 9;

/** Nine pages of tables placed at physical `tablesPa`, mapping KERNBASE + i*2M to `loadBase` + i*2M. */
export function amd64PageTables(tablesPa: bigint, loadBase: bigint): Uint8Array {
  const out = new Uint8Array(AMD64_PAGE_TABLE_PAGES * PAGE);
  const dv = new DataView(out.buffer);
  const pa = (page: number): bigint => tablesPa + BigInt(page * PAGE);
  const set = (page: number, index: number, value: bigint): void => dv.setBigUint64(page * PAGE + index * 8, value, true);
  const [PT4, PT3L, PT3U, PT2L0, PT2U0, PT2U1] = [0, 1, 2, 3, 7, 8] as const;
  set(PT4, 0, pa(PT3L) | PG_V | PG_RW);
  set(PT4, 511, pa(PT3U) | PG_V | PG_RW);
  for (let i = 0; i < 4; i++) {
    set(PT3L, i, pa(PT2L0 + i) | PG_V | PG_RW);
    for (let j = 0; j < 512; j++) set(PT2L0 + i, j, (BigInt(i * 512 + j) * NBPDR) | PG_V | PG_RW | PG_PS);
  }
  set(PT3U, 510, pa(PT2U0) | PG_V | PG_RW);
  set(PT3U, 511, pa(PT2U1) | PG_V | PG_RW);
  set(PT2U0, 0, 0n | PG_V | PG_RW | PG_PS);
  for (let i = 1; i < 1024; i++) {
    set(i < 512 ? PT2U0 : PT2U1, i % 512, (loadBase + BigInt(i) * NBPDR) | PG_V | PG_RW | PG_PS);
  }
  return out;
}
