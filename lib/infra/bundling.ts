import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

// The handlers are ESM ("type": "module"); a bundled ESM file has no `require`, which a
// few CommonJS dependencies still call, so the bundle defines one.
const REQUIRE_SHIM =
  "import { createRequire as __mlshipCreateRequire } from 'node:module'; const require = __mlshipCreateRequire(import.meta.url);";

/**
 * The esbuild options every function is bundled with, in esbuild's own terms, so that
 * bench/lambdas/cold-start.ts bundles exactly what deploys (FUNCTION_BUNDLING below is the
 * same thing in NodejsFunction's terms).
 *
 * `mainFields: ['module', 'main']` matters most: the SDK's ES builds are tree-shaken (its
 * packages say `sideEffects: false`), its CommonJS builds are not; with the CommonJS builds
 * a handler that uses S3 and one SageMaker command is twice the size (~1.1 MiB) and ~100 ms
 * slower to import (bench/lambdas/cold-start.ts).
 */
export const FUNCTION_ESBUILD = {
  platform: 'node',
  format: 'esm',
  mainFields: ['module', 'main'],
  target: 'node22',
  minify: true,
  sourcemap: true,
  banner: REQUIRE_SHIM,
  external: [] as string[],
} as const;

/**
 * esbuild options of every function: built locally (never in Docker), ESM for Node.js 22,
 * minified with source maps, and the AWS SDK bundled in so that a handler runs with the
 * SDK versions its tests ran with (and with lib-storage, which the runtime does not ship).
 */
export const FUNCTION_BUNDLING: nodejs.BundlingOptions = {
  forceDockerBundling: false,
  format: nodejs.OutputFormat.ESM,
  mainFields: [...FUNCTION_ESBUILD.mainFields],
  target: FUNCTION_ESBUILD.target,
  minify: FUNCTION_ESBUILD.minify,
  sourceMap: FUNCTION_ESBUILD.sourcemap,
  banner: FUNCTION_ESBUILD.banner,
  externalModules: [...FUNCTION_ESBUILD.external],
};
