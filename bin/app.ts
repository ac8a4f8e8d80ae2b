#!/usr/bin/env node
/**
 * The CDK app (`npx cdk synth|deploy`, see cdk.json). The only place that reads CDK
 * context and the environment; everything below it takes plain props.
 *
 * Context (`-c key=value`): connectionArn, repository (owner/name), branch (overrides the
 * manifests' branch), sourceProvider (codeconnections | codecommit), codecommitRepository,
 * account, region, notificationEmail. Missing deployment values synthesize to named
 * placeholders that fail the deployment before any resource is created.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { discoverModels } from '../lib/config';
import { buildApp } from '../lib/infra/app';
import { CONTEXT_KEYS, resolveAppConfig, type RawContext } from '../lib/infra/app-config';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const app = new App();
const context: RawContext = Object.fromEntries(CONTEXT_KEYS.map((k) => [k, app.node.tryGetContext(k)]));
const config = resolveAppConfig(context, { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION });

buildApp(app, { repoRoot, models: discoverModels(repoRoot), config });
app.synth();
