/**
 * `kexec-ts plan IMAGE [MODULES...]`: build and validate a segment plan without staging anything.
 */
import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../cli/base-command.js';
import {withConfigDefaults} from '../cli/plan-defaults.js';
import {planFlags, planRequestFromFlags} from '../cli/plan-flags.js';
import {selectHost} from '../cli/host-selection.js';
import {configFlag, loadSettings} from '../cli/settings.js';
import {exportPlan} from '../pipeline/export-plan.js';
import {planToJSON, type PlanJSON} from '../plan/codec.js';
import {planFiles} from '../pipeline/plan-files.js';
import {renderPlan} from '../render/plan-text.js';

export default class PlanCommand extends BaseCommand {
  static override summary = 'Plan how an image is laid out in physical memory, without staging it.';
  static override description =
    'Reads IMAGE, places every PT_LOAD (or the FreeBSD kernel and its MODULES) in the memory map, merges the pieces ' +
    'into at most 16 page-aligned kexec segments, checks every rule kexec_load relies on, and prints the segment ' +
    'table, the entry and a picture of the memory map.\n' +
    'Exit codes: 0 ok, 2 usage or memory map error, 3 bad input file, 4 the plan cannot be built.';
  static override strict = false;
  static override args = {
    image: Args.string({description: 'kernel or ELF image to plan (default: the kernel the loader would boot on the host)'}),
    modules: Args.string({description: 'FreeBSD kernel modules to load with the kernel (by path or name)'}),
  };
  static override flags = {
    ...planFlags,
    ...configFlag,
    export: Flags.string({description: 'write DIR/plan.json and DIR/segment-NN.bin (exactly bufsz bytes each)', helpValue: 'DIR'}),
  };
  static override examples = [
    '<%= config.bin %> plan',
    '<%= config.bin %> plan --host /var/db/kexec-ts/hosts/web1 --json',
    '<%= config.bin %> plan /boot/kernel/kernel',
    '<%= config.bin %> plan --profile arm64-virt-2g --json firmware.elf',
    '<%= config.bin %> plan --memmap phys_segs.txt --export /tmp/plan kernel.elf',
  ];

  async run(): Promise<PlanJSON> {
    const {argv, flags} = await this.parse(PlanCommand);
    const [image, ...modules] = argv as string[];
    // The same config defaults as `load` (memmap, profile, page size, module path, loader.conf, env, host).
    const settings = await loadSettings(flags.config, {});
    const host = await selectHost(flags.host, settings);
    const req = withConfigDefaults(await planRequestFromFlags(image, modules, flags), settings);
    const {plan} = await planFiles({...req, ...(host === undefined ? {} : {host})});
    if (flags.export !== undefined) exportPlan(plan, flags.export);
    if (!this.jsonEnabled()) {
      this.log(renderPlan(plan));
      if (flags.export !== undefined) this.log(`  exported to ${flags.export}/plan.json and ${plan.segments.length} segment files`);
    }
    return planToJSON(plan);
  }
}
