#!/usr/bin/env -S node --
// kexec-ts entry point. The `--` ends node's own options: Node 20 otherwise applies `--env-file=FILE` found
// anywhere in argv, even after the script name, so `kexec-ts load --env-file=F` would load F's NODE_OPTIONS
// (say `--require` of a user's script) into this root process before any of our code runs.
// src/cli/main.ts says why oclif plugins are off.
import {URL, fileURLToPath} from 'node:url';
import {main} from '../dist/cli/main.js';

await main(fileURLToPath(new URL('..', import.meta.url)));
