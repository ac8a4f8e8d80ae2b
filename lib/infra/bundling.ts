import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';

// The handlers are ESM ("type": "module"); a bundled ESM file has no `require`, which a
// few CommonJS dependencies still call, so the bundle defines one.
const REQUIRE_SHIM = "import { createRequire as __mlshipCreateRequire } from 'node:module'; const require = __mlshipCreateRequire(import.meta.url);";

/**
 * esbuild options of every function: built locally (never in Docker), ESM for Node.js 22,
 * minified with source maps, and the AWS SDK bundled in so that a handler runs with the
 * SDK versions its tests ran with (and with lib-storage, which the runtime does not ship).
 */
export const FUNCTION_BUNDLING: nodejs.BundlingOptions = {
  forceDockerBundling: false,
  format: nodejs.OutputFormat.ESM,
  mainFields: ['module', 'main'],
  target: 'node22',
  minify: true,
  sourceMap: true,
  banner: REQUIRE_SHIM,
  externalModules: [],
};
