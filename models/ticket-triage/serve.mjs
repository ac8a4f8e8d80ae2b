#!/usr/bin/env node
/**
 * The ticket-triage model server (SageMaker container contract): the model from
 * $SM_MODEL_DIR (default: ./model next to this file), port $SAGEMAKER_BIND_TO_PORT
 * (default 8080). SageMaker starts the image as `docker run <image> serve`; the `serve`
 * argument is accepted and ignored.
 */
import { fileURLToPath } from 'node:url';
import { runMain } from './lib/args.mjs';
import { loadModel, predictInstances } from './lib/model.mjs';
import { serveFromEnv } from './lib/server.mjs';

await runMain(async () => {
  const extra = process.argv.slice(2).filter((a) => a !== 'serve');
  if (extra.length) throw new Error(`unexpected arguments ${extra.join(' ')}; configure with SM_MODEL_DIR and SAGEMAKER_BIND_TO_PORT`);
  const model = loadModel(process.env.SM_MODEL_DIR ?? fileURLToPath(new URL('./model', import.meta.url)));
  await serveFromEnv({ features: model.features, predict: (instances) => predictInstances(model, instances) });
});
