import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DuplicateModelNameError } from '../../lib/config';
import { buildApp } from '../../lib/infra/app';
import { resolveAppConfig } from '../../lib/infra/app-config';
import { fixtureModels, REPO_ROOT } from './helpers';

describe('Function: buildApp (synth refuses duplicate model names)', () => {
  it('refuses two manifests with one name in one line naming both files, before any stack exists', () => {
    // Prepare: parcel-eta's manifest again, under another directory
    const models = fixtureModels();
    const parcel = models.find((m) => m.manifest.name === 'parcel-eta')!;
    const copy = { ...parcel, dir: 'models/parcel-eta-copy', file: 'models/parcel-eta-copy/model.yaml' };
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });

    // Act
    const synth = () => buildApp(app, { repoRoot: REPO_ROOT, models: [...models, copy], config: resolveAppConfig({}), nag: false });

    // Assess
    expect(synth).toThrow(DuplicateModelNameError);
    expect(synth).toThrow(
      `models/parcel-eta-copy/model.yaml: name: "parcel-eta" is already the name of ${parcel.file}; model names must be unique`,
    );
    expect(app.node.children).toHaveLength(0);
  });
});
