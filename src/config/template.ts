/**
 * The commented config template (templates/config/kexec-ts.yaml), generated from the schema so the template, the
 * validator and the README cannot drift apart: a unit test compares the shipped file with renderConfigTemplate().
 * Layout, as in sshd_config: description lines start with "# " and text; example lines are the YAML itself behind
 * a single '#' ("#backend: sim", "#  library: …"), so uncommenting a key means deleting one '#'.
 */
import {stringify} from 'yaml';
import {SEARCH_PLACES, SYSTEM_CONFIG_DIR, SYSTEM_CONFIG_FILES} from './load-config.js';
import {CONFIG_KEYS, type ConfigKeyDoc} from './schema.js';

const WIDTH = 100;

/** Words wrapped into "# "-prefixed lines; never starts a line with a blank, so it cannot look like an example. */
function comment(text: string): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line.length + 1 + word.length > WIDTH && line !== '#') {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

function describe(doc: ConfigKeyDoc): string[] {
  return comment(`${doc.key} (${doc.type}; default: ${doc.default}). ${doc.description}`);
}

/** The example value(s) as YAML, every line behind one '#'. */
function example(value: Record<string, unknown>): string[] {
  return stringify(value, {lineWidth: 0}).trimEnd().split('\n').map((l) => `#${l}`);
}

/** Header paragraphs ('' is an empty comment line). */
const HEADER: readonly string[] = [
  'kexec-ts configuration: YAML (JSON is YAML too). kexec-ts runs as root, so a config is data only: it never loads a .js or .ts config, and refuses a world-writable file and, when it runs as root, a file found by searching that root does not own.',
  '',
  `Where kexec-ts looks, first match wins (files are not merged): --config FILE, then $KEXEC_TS_CONFIG, then from the working directory up to the directory that holds package.json: ${SEARCH_PLACES.map((p) => (p === 'package.json' ? 'package.json (its "kexec-ts" property)' : p)).join(', ')}; then ${SYSTEM_CONFIG_FILES.map((f) => `${SYSTEM_CONFIG_DIR}/${f}`).join(' or ')} ($KEXEC_TS_SYSCONFDIR replaces ${SYSTEM_CONFIG_DIR}).`,
  '',
  'Command-line flags override these settings. Every key is shown commented out with an example value: to set one, delete the \'#\' in front of it (and in front of its section line, such as "native:"). Relative paths are relative to this file. Unknown keys are errors.',
];

/** The text of templates/config/kexec-ts.yaml. */
export function renderConfigTemplate(): string {
  const out: string[] = [];
  for (const paragraph of HEADER) out.push(...(paragraph === '' ? ['#'] : comment(paragraph)));
  const sections = new Map<string, ConfigKeyDoc[]>();
  for (const doc of CONFIG_KEYS) {
    const [head = doc.key, child] = doc.key.split('.');
    if (child === undefined) {
      out.push('', ...describe(doc), ...example({[head]: doc.example}));
      continue;
    }
    if (!sections.has(head)) sections.set(head, []);
    sections.get(head)?.push(doc);
  }
  for (const [head, docs] of sections) {
    out.push('', `# ${head}: settings of the ${head} backend.`);
    for (const doc of docs) out.push(...describe(doc));
    out.push(...example({[head]: Object.fromEntries(docs.map((d) => [d.key.slice(head.length + 1), d.example]))}));
  }
  return `${out.join('\n')}\n`;
}

/** The template with every example line uncommented (what a user gets by deleting each example's '#'). */
export function uncommentExamples(text: string): string {
  return text
    .split('\n')
    .map((line) => (/^#(?:[^\s#]| {2})/.test(line) ? line.slice(1) : line))
    .join('\n');
}
