/**
 * One synthesis of the app with N generated models, in a process of its own (as `cdk synth`
 * runs): prints the synth time and every stack's census as JSON. bench/scale/run.ts runs it.
 */
import { performance } from 'node:perf_hooks';
import { census } from '../../test/infra/helpers';

const count = Number(process.argv[2]);
if (!Number.isInteger(count) || count < 1) throw new Error(`usage: synth-once.ts <models>, got "${process.argv[2]}"`);
const start = performance.now();
// census() composes the app as bin/app.ts does (cdk-nag as a validation plugin, bundling
// skipped: the function bundles do not depend on the model count) and synthesizes it.
const stacks = census(count);
process.stdout.write(`${JSON.stringify({ ms: performance.now() - start, stacks })}\n`);
