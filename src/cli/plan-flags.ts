/**
 * Planning flags shared by `plan` and `load`, and their translation into a PlanRequest.
 */
import {Flags} from '@oclif/core';
import {parseBigintFlag} from './parse-number.js';
import type {PlanRequest} from '../pipeline/plan-files.js';
import {PROFILE_NAMES} from '../plan/profiles.js';

export const planFlags = {
  memmap: Flags.string({description: 'memory map: `sysctl vm.phys_segs` output or a JSON/YAML map file', helpValue: 'FILE'}),
  profile: Flags.string({description: `built-in machine profile (${PROFILE_NAMES.join(', ')})`, helpValue: 'NAME'}),
  'page-size': Flags.string({description: 'page size (default 4K; arm64 kernels may use 16K or 64K)', helpValue: 'SIZE'}),
  'use-vaddr': Flags.boolean({description: 'place PT_LOADs at p_vaddr instead of p_paddr (images whose p_paddr is unusable)'}),
  entry: Flags.string({description: 'physical entry address, instead of e_entry translated through its PT_LOAD', helpValue: 'ADDR'}),
  placement: Flags.option({options: ['bottom-up', 'top-down'] as const, description: 'where relocatable images go: lowest or highest free RAM'})(),
  min: Flags.string({description: 'lowest physical address a relocatable image may use', helpValue: 'ADDR'}),
  max: Flags.string({description: 'highest physical address (exclusive) a relocatable image may use', helpValue: 'ADDR'}),
};

export interface PlanFlagValues {
  memmap?: string;
  profile?: string;
  'page-size'?: string;
  'use-vaddr'?: boolean;
  entry?: string;
  placement?: 'bottom-up' | 'top-down';
  min?: string;
  max?: string;
}

export function planRequestFromFlags(image: string, modules: string[], f: PlanFlagValues): PlanRequest {
  const opt = <K extends string, V>(key: K, v: V | undefined): Partial<Record<K, V>> =>
    (v === undefined ? {} : {[key]: v}) as Partial<Record<K, V>>;
  return {
    image,
    modules,
    ...opt('memmap', f.memmap),
    ...opt('profile', f.profile),
    ...opt('pageSize', f['page-size'] === undefined ? undefined : parseBigintFlag('--page-size', f['page-size'])),
    useVaddr: f['use-vaddr'] === true,
    ...opt('entry', f.entry === undefined ? undefined : parseBigintFlag('--entry', f.entry)),
    ...opt('placement', f.placement),
    ...opt('min', f.min === undefined ? undefined : parseBigintFlag('--min', f.min)),
    ...opt('max', f.max === undefined ? undefined : parseBigintFlag('--max', f.max)),
  };
}
