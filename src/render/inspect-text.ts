/**
 * Human-readable rendering of an InspectReport (the text form of `kexec-ts inspect`).
 */
import type {InspectReport} from '../elf/report.js';
import {renderTable} from './table.js';

export function renderInspect(r: InspectReport, options: {sections?: boolean} = {}): string {
  const out: string[] = [];
  out.push(r.file);
  out.push(`  ELF${r.class} ${r.endianness}-endian ${r.type}, ${r.machine} (machine ${r.machineCode}), OSABI ${r.osabi} (${r.osabiCode})`);
  out.push(`  entry ${r.entry}${r.entryPhysical === null ? ' (not inside any PT_LOAD)' : ` (physical ${r.entryPhysical})`}`);
  if (r.freebsd !== null) {
    const f = r.freebsd;
    const parts = [`FreeBSD ${f.version === null ? '(no ABI note)' : `__FreeBSD_version ${f.version}`}`];
    if (f.interpreter !== null) parts.push(`interpreter ${f.interpreter}`);
    out.push(`  ${parts.join(', ')}`);
    if (f.modules.length > 0) {
      out.push(`  modules: ${f.modules.map((m) => (m.version === null ? m.name : `${m.name} v${m.version}`)).join(', ')}`);
    }
    if (f.depends.length > 0) {
      out.push(`  depends: ${f.depends.map((d) => `${d.name} [${d.min}, ${d.max}] preferred ${d.preferred}`).join(', ')}`);
    }
  }
  if (r.programHeaders.length === 0) {
    out.push('  no program headers');
  } else {
    out.push('  program headers:');
    out.push(
      renderTable(
        [{title: 'type'}, {title: 'offset', align: 'right'}, {title: 'vaddr', align: 'right'}, {title: 'paddr', align: 'right'},
          {title: 'filesz', align: 'right'}, {title: 'memsz', align: 'right'}, {title: 'align', align: 'right'}, {title: 'flags'}],
        r.programHeaders.map((p) => [p.type, p.offset, p.vaddr, p.paddr, p.filesz, p.memsz, p.align, p.flags]),
        '    ',
      ),
    );
  }
  if (options.sections === true && r.sections.length > 0) {
    out.push('  sections:');
    out.push(
      renderTable(
        [{title: 'name'}, {title: 'type'}, {title: 'addr', align: 'right'}, {title: 'offset', align: 'right'},
          {title: 'size', align: 'right'}, {title: 'align', align: 'right'}, {title: 'flags'}],
        r.sections.map((s) => [s.name, s.type, s.addr, s.offset, s.size, s.align, s.flags]),
        '    ',
      ),
    );
  } else if (r.sections.length > 0) {
    out.push(`  ${r.sections.length} sections (--sections lists them)`);
  }
  for (const w of r.warnings) out.push(`  warning: ${w}`);
  return out.join('\n');
}
