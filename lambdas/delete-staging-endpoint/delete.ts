import type { S3Client } from '@aws-sdk/client-s3';
import { DeleteEndpointCommand, type SageMakerClient } from '@aws-sdk/client-sagemaker';
import { isSageMakerNotFound } from '../shared/errors';
import { readLease } from '../shared/lease';
import { endpointName } from '../shared/names';
import { findVersion } from '../shared/registry';

export interface DeleteStagingDeps {
  s3: S3Client;
  sagemaker: SageMakerClient;
  bucket: string;
}

export interface DeleteStagingInput {
  /** Missing only when the release input itself was invalid. */
  model: string | undefined;
  /** Missing when the release ended before PrepareRelease made its version. */
  version: string | undefined;
  executionId: string;
}

export interface DeleteStagingResult {
  endpointName: string | null;
  /** deleted; absent (nothing to delete); kept (the manifest keeps it); skipped (not this release's to delete). */
  action: 'deleted' | 'absent' | 'kept' | 'skipped';
  detail: string;
}

/**
 * The end of every release: delete the model's staging endpoint, which bills by the hour
 * while nobody uses it. Only the release holding the model's lease may: the staging endpoint
 * (`mlship-<model>-staging`) is shared by the model's releases, and a release that ends
 * without the lease (superseded, or failed before taking it) would delete the one a newer
 * release is evaluating. The production endpoint is never named here.
 */
export async function deleteStagingEndpoint(deps: DeleteStagingDeps, input: DeleteStagingInput): Promise<DeleteStagingResult> {
  if (!input.model || !input.version)
    return { endpointName: null, action: 'skipped', detail: 'the release ended before it had a version; it deployed nothing' };
  const name = endpointName(input.model, 'staging');
  const record = await findVersion(deps, input.model, input.version);
  // Records written before the setting existed have no `staging`: the default applies.
  if (record?.value.manifest.staging?.keepEndpoint)
    return { endpointName: name, action: 'kept', detail: 'the manifest sets staging.keepEndpoint' };
  const holder = (await readLease(deps, input.model))?.value.holder;
  if (holder && holder.executionArn !== input.executionId) {
    return {
      endpointName: name,
      action: 'skipped',
      detail: `${holder.executionName} holds the lease of ${input.model} and its staging endpoint`,
    };
  }
  if (!holder) {
    // RecordOutcome releases the lease after this step, so a free lease means this release
    // never took it (it ended before AcquireLease succeeded).
    return { endpointName: name, action: 'skipped', detail: `this release never held the lease of ${input.model}` };
  }
  try {
    await deps.sagemaker.send(new DeleteEndpointCommand({ EndpointName: name }));
  } catch (err) {
    if (isSageMakerNotFound(err)) return { endpointName: name, action: 'absent', detail: `${name} does not exist` };
    throw err;
  }
  return { endpointName: name, action: 'deleted', detail: `deleted ${name}` };
}
