/**
 * `kexec-ts load IMAGE [MODULES...]`: plan the image against the backend's memory map and stage it.
 */
import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../cli/base-command.js';
import {commandContext, withConfigDefaults} from '../cli/command-context.js';
import {planFlags, planRequestFromFlags} from '../cli/plan-flags.js';
import {formatSize, runSteps} from '../cli/progress.js';
import {selectHost} from '../cli/host-selection.js';
import {backendFlags} from '../cli/settings.js';
import type {Backend, StagedRecord} from '../backend/types.js';
import {ElfFile} from '../elf/elf-file.js';
import {KexecError, hex} from '../errors.js';
import {planFiles} from '../pipeline/plan-files.js';
import {renderChecklist} from '../render/checklist-text.js';
import {planToJSON, type PlanJSON} from '../plan/codec.js';
import type {Plan} from '../plan/types.js';
import {KEXEC_SEGMENT_MAX} from '../plan/types.js';

interface LoadContext {
  backend?: Backend;
  elf?: ElfFile;
  plan?: Plan;
  staged?: StagedRecord;
}

export interface LoadResult {
  backend: string;
  dryRun: boolean;
  staged: StagedRecord | null;
  plan: PlanJSON;
}

export default class Load extends BaseCommand {
  static override summary = 'Plan an image and stage it for the next `kexec-ts exec`.';
  static override description =
    'Plans IMAGE (and, for a FreeBSD kernel, its MODULES, environment and trampoline) against the backend\'s memory map, ' +
    'validates the plan, and stages it with kexec_load(2) (native backend) or in the simulated machine (sim backend). ' +
    'A second load replaces the staged image. Progress goes to stderr.\n' +
    'Exit codes: 0 ok, 2 usage/config, 3 bad input file, 4 plan cannot be built, 5 backend refused, 6 busy.';
  static override strict = false;
  static override args = {
    image: Args.string({description: 'kernel or ELF image (default: the kernel the loader would boot on this host)'}),
    modules: Args.string({description: 'FreeBSD kernel modules (paths or names)'}),
  };
  static override flags = {
    ...planFlags,
    ...backendFlags,
    'dry-run': Flags.boolean({description: 'plan and validate against the backend, but stage nothing'}),
    quiet: Flags.boolean({char: 'q', description: 'no progress lines on stderr (errors are still printed)'}),
  };
  static override examples = [
    '<%= config.bin %> load /boot/kernel/kernel',
    '<%= config.bin %> load --backend sim --profile amd64-4g /boot/kernel/kernel if_em --howto -v',
    '<%= config.bin %> load --dry-run --json /boot/kernel.new/kernel',
  ];

  async run(): Promise<LoadResult> {
    const {argv, flags} = await this.parse(Load);
    const [image, ...modules] = argv as string[];
    const {backend, why, settings} = await commandContext(flags);
    const base = withConfigDefaults(await planRequestFromFlags(image, modules, flags), settings);
    const host = await selectHost(flags.host, settings, backend.name);
    const ctx = await runSteps<LoadContext>(
      [
        {title: `Select backend`, task: async (c, t) => {
          const probe = await backend.probe();
          if (!probe.available) {
            throw new KexecError('backend', `backend ${backend.name} cannot run here: ${probe.reason ?? 'unknown reason'}`, {reason: 'backend-unavailable', hint: 'use --backend sim to try the plan on the simulated machine'});
          }
          c.backend = backend;
          t.title = `Using the ${why}${probe.arch === undefined ? '' : ` on ${probe.arch}`}`;
        }},
        ...(image === undefined || base.root !== undefined ? [] : [{title: `Read ${image}`, task: async (c: LoadContext, t: {title: string}) => {
          const elf = await ElfFile.open(image);
          c.elf = elf;
          t.title = `Read ${image} (${formatSize(elf.size)}, ELF${elf.header.class})`;
        }}]),
        {title: 'Resolve modules and plan segments', task: async (c, t) => {
          // Planned for the backend's machine: its memory map, page size and firmware tables, unless flags say otherwise.
          c.plan = (await planFiles({...base, target: await backend.target(), ...(c.elf === undefined ? {} : {elf: c.elf}), ...(host === undefined ? {} : {host})})).plan;
          const p = c.plan;
          const bytes = p.segments.reduce((n, s) => n + s.memsz, 0n);
          t.title = `Planned ${p.files.length} file(s) into ${p.segments.length}/${KEXEC_SEGMENT_MAX} segments, ${formatSize(bytes)}, entry ${hex(p.entry)}`;
        }},
        {title: 'Digest segments', task: (c, t) => {
          t.title = `Digest ${c.plan?.digest.slice(0, 16)}… (SHA-256 per segment and over the plan)`;
        }},
        {title: `Stage on the ${backend.name} backend`, skip: () => (flags['dry-run'] ? '--dry-run: nothing staged' : false), task: async (c, t) => {
          const staged = await backend.load(c.plan as Plan);
          c.staged = staged;
          t.title = `Staged on the ${backend.name} backend (${staged.segments} segments, ${formatSize(BigInt(staged.memsz))})`;
        }},
      ],
      {},
      {quiet: flags.quiet},
    );
    const plan = ctx.plan as Plan;
    if (!this.jsonEnabled()) {
      this.log(flags['dry-run'] ? `dry run: ${plan.files[0]} would be staged on the ${backend.name} backend` : `staged ${plan.files[0]} on the ${backend.name} backend`);
      this.log(`  entry ${hex(plan.entry)}, ${plan.segments.length} segments, digest ${plan.digest}`);
      if (plan.handoff.kind === 'freebsd') for (const l of renderChecklist(plan.handoff)) this.log(l);
      for (const n of plan.notes) this.log(`  note: ${n}`);
      if (!flags['dry-run']) this.log('  next: kexec-ts exec');
    }
    return {backend: backend.name, dryRun: flags['dry-run'] === true, staged: ctx.staged ?? null, plan: planToJSON(plan)};
  }
}
