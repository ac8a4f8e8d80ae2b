import type { S3Client } from '@aws-sdk/client-s3';
import { TransientError } from '../shared/errors';
import { keys } from '../shared/names';
import {
  appendHistory,
  readProduction,
  updateVersion,
  type ApprovalInfo,
  type ProductionPointer,
  type RegistryDeps,
} from '../shared/registry';
import { putJsonIf } from '../shared/s3json';

export interface PromoteDeps extends RegistryDeps {
  s3: S3Client;
  bucket: string;
  now: () => Date;
}

export interface PromoteInput {
  model: string;
  version: string;
  executionId: string;
  endpointName: string;
  approval: { by?: string; at?: string; comment?: string | null } | null;
}

export interface PromoteResult {
  production: string;
  previous: string | null;
}

/**
 * Make the version production in the registry.
 *
 * Order matters for a crash half-way: (1) the new version record says production, (2) the
 * pointer `production.json` is swapped with a conditional write (the one atomic step),
 * (3) the previous version is archived, (4) the history gets an entry. Readers trust only
 * the pointer, so at every instant exactly one version is production; a retry finds the
 * pointer already swapped and finishes steps 3-4.
 */
export async function promoteVersion(deps: PromoteDeps, input: PromoteInput): Promise<PromoteResult> {
  const current = await readProduction(deps, input.model);
  const already = current?.value.version === input.version;
  const previous = already ? current.value.previous : (current?.value.version ?? null);
  const approval: ApprovalInfo | null = input.approval?.by
    ? {
        decision: 'approved',
        by: input.approval.by,
        at: input.approval.at ?? deps.now().toISOString(),
        comment: input.approval.comment ?? null,
      }
    : null;

  await updateVersion(
    deps,
    input.model,
    input.version,
    (r, at) => ({
      ...r,
      status: 'production',
      promotedAt: r.promotedAt ?? at,
      approval: approval ?? r.approval,
      lineage: { ...r.lineage, previousProduction: previous },
    }),
    deps.now,
  );

  if (!already) {
    const pointer: ProductionPointer = {
      model: input.model,
      version: input.version,
      since: deps.now().toISOString(),
      executionArn: input.executionId,
      endpointName: input.endpointName,
      previous,
    };
    const swapped = await putJsonIf(
      deps.s3,
      deps.bucket,
      keys.production(input.model),
      pointer,
      current?.etag ? { ifMatch: current.etag } : { ifNoneMatch: '*' },
    );
    // Someone else moved the pointer since we read it: read again and redo (the state
    // machine retries TransientError) rather than overwrite their promotion blindly.
    if (!swapped.written)
      throw new TransientError(`registry/${input.model}/production.json changed while ${input.version} was being promoted`);
    await appendHistory(deps, input.model, pointer.since, input.version, {
      event: 'promoted',
      previous,
      executionArn: input.executionId,
      endpointName: input.endpointName,
    });
  }

  if (previous && previous !== input.version) {
    await updateVersion(
      deps,
      input.model,
      previous,
      (r, at) => (r.status === 'production' ? { ...r, status: 'archived', archivedAt: at } : r),
      deps.now,
    );
  }
  return { production: input.version, previous };
}
