/**
 * `kexec-ts unload`: drop the staged image (kexec_load with zero segments).
 */
import {KexecError} from '../errors.js';
import {BaseCommand} from '../cli/base-command.js';
import {commandContext} from '../cli/command-context.js';
import {backendFlags} from '../cli/settings.js';
import type {StagedRecord} from '../backend/types.js';

/** Reasons of a staged image or record that cannot be read back: unload clears them instead of failing. */
const CORRUPT = new Set(['state-corrupt', 'record-corrupt', 'record-unreadable', 'plan-tampered', 'plan-digest-mismatch']);

export default class Unload extends BaseCommand {
  static override summary = 'Drop the staged image.';
  static override description = 'Calls kexec_load with zero segments (native) or clears the simulated machine\'s staged image.\nExit codes: 0 ok, 2 usage, 5 backend refused, 6 busy.';
  static override flags = {...backendFlags};
  static override examples = ['<%= config.bin %> unload'];

  async run(): Promise<{backend: string; unloaded: StagedRecord | null}> {
    const {flags} = await this.parse(Unload);
    const {backend} = await commandContext(flags);
    // A corrupt stage is what unload is for: it is cleared whatever status() makes of it.
    const before = await backend.status().then((st) => st.staged, (e: unknown) => {
      if (e instanceof KexecError && CORRUPT.has(e.reason)) return null;
      throw e;
    });
    await backend.unload();
    if (!this.jsonEnabled()) this.log(before === null ? `nothing was staged on the ${backend.name} backend` : `unloaded ${before.files[0] ?? 'image'} (${before.digest.slice(0, 16)}…) from the ${backend.name} backend`);
    return {backend: backend.name, unloaded: before};
  }
}
