import { join } from 'node:path';
import { epochSeconds } from '../../core/service';
import { validation } from './errors';
import { ResourceStore } from './store';

/**
 * SageMaker Model Registry: model package groups and the versioned model packages in them,
 * kept as the other SageMaker resources are (one JSON file each under
 * `<dataDir>/sagemaker/model-package-groups/` and `.../model-packages/`, so they survive a
 * restart). The edge has already checked each request against SageMaker's service model;
 * what is checked here is what only the service knows (existence, duplicates, idempotency).
 *
 * As on SageMaker: a package is numbered 1, 2, ... within its group; its ARN is
 * `...:model-package/<group lower-case>/<n>`; a repeated CreateModelPackage with the same
 * ClientToken returns the package the first call made; a package is `Completed` at once
 * (there is no image validation to wait for); ModelApprovalStatus defaults to
 * PendingManualApproval. Only versioned packages (in a group) are emulated.
 */

type Dict = Record<string, unknown>;

/** The Model Registry operations the local cloud serves (also listed in scripts/aws-models.py). */
export const MODEL_REGISTRY_OPERATIONS = [
  'CreateModelPackageGroup',
  'DescribeModelPackageGroup',
  'CreateModelPackage',
  'UpdateModelPackage',
  'DescribeModelPackage',
  'ListModelPackages',
] as const;

interface GroupRecord {
  ModelPackageGroupName: string;
  ModelPackageGroupArn: string;
  ModelPackageGroupDescription?: string;
  CreationTime: number;
}

interface PackageRecord extends Dict {
  ModelPackageGroupName: string;
  ModelPackageVersion: number;
  ModelPackageArn: string;
  ModelApprovalStatus: string;
  CreationTime: number;
  LastModifiedTime: number;
  /** Not part of the answer: the idempotency token of the call that created it. */
  clientToken?: string;
}

/** CreateModelPackage members stored and described back as given. */
const STORED_MEMBERS = [
  'ModelPackageDescription',
  'InferenceSpecification',
  'MetadataProperties',
  'ModelMetrics',
  'CustomerMetadataProperties',
  'DriftCheckBaselines',
  'Domain',
  'Task',
  'SamplePayloadUrl',
  'SourceUri',
] as const;

/** UpdateModelPackage members the local cloud applies; any other is refused by name rather than ignored. */
const UPDATABLE = new Set([
  'ModelPackageArn',
  'ModelApprovalStatus',
  'ApprovalDescription',
  'CustomerMetadataProperties',
  'CustomerMetadataPropertiesToRemove',
  'ClientToken',
]);

/** `name` or `arn:...:model-package-group/name` -> name (ARNs are lower-case, names are matched case-insensitively as SageMaker does). */
const lastSegment = (value: string): string => value.split('/').at(-1)!;

export class ModelRegistry {
  private readonly groups: ResourceStore<GroupRecord>;
  private readonly packages: ResourceStore<PackageRecord>;

  constructor(
    root: string,
    private readonly arnPrefix: string,
  ) {
    this.groups = new ResourceStore(join(root, 'model-package-groups'));
    this.packages = new ResourceStore(join(root, 'model-packages'));
  }

  private group(nameOrArn: unknown): GroupRecord {
    const name = lastSegment(String(nameOrArn)).toLowerCase();
    const found = this.groups.values().find((g) => g.ModelPackageGroupName.toLowerCase() === name);
    if (!found) throw validation(`ModelPackageGroup ${String(nameOrArn)} does not exist.`);
    return found;
  }

  /** A package by ARN or `<group>/<version>`. */
  private package(nameOrArn: unknown): PackageRecord {
    const m = /(?:^|model-package\/)([^/]+)\/(\d+)$/.exec(String(nameOrArn));
    const found = m ? this.packages.get(packageKey(m[1]!.toLowerCase(), Number(m[2]))) : undefined;
    if (!found) throw validation(`Model package ${String(nameOrArn)} does not exist.`);
    return found;
  }

  async CreateModelPackageGroup(input: Dict) {
    const name = String(input.ModelPackageGroupName);
    const arn = `${this.arnPrefix}:model-package-group/${name.toLowerCase()}`;
    if (this.groups.values().some((g) => g.ModelPackageGroupArn === arn)) throw validation(`Model Package Group already exists: ${arn}`);
    this.groups.put(name.toLowerCase(), {
      ModelPackageGroupName: name,
      ModelPackageGroupArn: arn,
      ...(typeof input.ModelPackageGroupDescription === 'string'
        ? { ModelPackageGroupDescription: input.ModelPackageGroupDescription }
        : {}),
      CreationTime: epochSeconds(),
    });
    return { ModelPackageGroupArn: arn };
  }

  async DescribeModelPackageGroup(input: Dict) {
    return { ...this.group(input.ModelPackageGroupName), CreatedBy: {}, ModelPackageGroupStatus: 'Completed' };
  }

  async CreateModelPackage(input: Dict) {
    if (input.ModelPackageGroupName === undefined)
      throw validation('ModelPackageGroupName is required: the local cloud emulates versioned model packages (in a group) only');
    const group = this.group(input.ModelPackageGroupName);
    const inGroup = this.packagesOf(group);
    const token = typeof input.ClientToken === 'string' ? input.ClientToken : undefined;
    const repeated = token ? inGroup.find((p) => p.clientToken === token) : undefined;
    if (repeated) return { ModelPackageArn: repeated.ModelPackageArn };
    const version = inGroup.reduce((n, p) => Math.max(n, p.ModelPackageVersion), 0) + 1;
    const lower = group.ModelPackageGroupName.toLowerCase();
    const now = epochSeconds();
    const rec: PackageRecord = {
      ModelPackageGroupName: group.ModelPackageGroupName,
      ModelPackageVersion: version,
      ModelPackageArn: `${this.arnPrefix}:model-package/${lower}/${version}`,
      ModelApprovalStatus: typeof input.ModelApprovalStatus === 'string' ? input.ModelApprovalStatus : 'PendingManualApproval',
      CreationTime: now,
      LastModifiedTime: now,
      ...Object.fromEntries(STORED_MEMBERS.filter((k) => input[k] !== undefined).map((k) => [k, input[k]])),
      ...(token ? { clientToken: token } : {}),
    };
    this.packages.put(packageKey(lower, version), rec);
    return { ModelPackageArn: rec.ModelPackageArn };
  }

  async UpdateModelPackage(input: Dict) {
    const unsupported = Object.keys(input).filter((k) => !UPDATABLE.has(k));
    if (unsupported.length) throw validation(`UpdateModelPackage: ${unsupported.join(', ')} cannot be updated in the local cloud`);
    const rec = structuredClone(this.package(input.ModelPackageArn));
    if (typeof input.ModelApprovalStatus === 'string') rec.ModelApprovalStatus = input.ModelApprovalStatus;
    if (typeof input.ApprovalDescription === 'string') rec.ApprovalDescription = input.ApprovalDescription;
    const metadata = {
      ...((rec.CustomerMetadataProperties as Record<string, string> | undefined) ?? {}),
      ...((input.CustomerMetadataProperties as Dict) ?? {}),
    };
    for (const k of (input.CustomerMetadataPropertiesToRemove as string[] | undefined) ?? []) delete metadata[k];
    rec.CustomerMetadataProperties = Object.keys(metadata).length ? metadata : undefined;
    rec.LastModifiedTime = epochSeconds();
    this.packages.put(packageKey(rec.ModelPackageGroupName.toLowerCase(), rec.ModelPackageVersion), rec);
    return { ModelPackageArn: rec.ModelPackageArn };
  }

  async DescribeModelPackage(input: Dict) {
    const { clientToken: _token, ...rec } = this.package(input.ModelPackageName);
    return {
      ...rec,
      ModelPackageName: rec.ModelPackageGroupName,
      ModelPackageStatus: 'Completed',
      ModelPackageStatusDetails: { ValidationStatuses: [], ImageScanStatuses: [] },
      CreatedBy: {},
    };
  }

  async ListModelPackages(input: Dict) {
    if (input.ModelPackageType === 'Unversioned') return { ModelPackageSummaryList: [] };
    let list =
      input.ModelPackageGroupName !== undefined ? this.packagesOf(this.group(input.ModelPackageGroupName)) : this.packages.values();
    if (typeof input.ModelApprovalStatus === 'string') list = list.filter((p) => p.ModelApprovalStatus === input.ModelApprovalStatus);
    if (typeof input.NameContains === 'string') list = list.filter((p) => p.ModelPackageGroupName.includes(input.NameContains as string));
    if (typeof input.CreationTimeAfter === 'number') list = list.filter((p) => p.CreationTime > (input.CreationTimeAfter as number));
    if (typeof input.CreationTimeBefore === 'number') list = list.filter((p) => p.CreationTime < (input.CreationTimeBefore as number));
    const byName = input.SortBy === 'Name';
    const sign = input.SortOrder === 'Ascending' ? 1 : -1;
    list.sort((a, b) =>
      byName
        ? sign * (a.ModelPackageGroupName.localeCompare(b.ModelPackageGroupName) || a.ModelPackageVersion - b.ModelPackageVersion)
        : sign * (a.CreationTime - b.CreationTime || a.ModelPackageVersion - b.ModelPackageVersion),
    );
    const start = typeof input.NextToken === 'string' ? Number(input.NextToken) || 0 : 0;
    const max = typeof input.MaxResults === 'number' ? input.MaxResults : 100;
    const page = list.slice(start, start + max);
    return {
      ModelPackageSummaryList: page.map((p) => ({
        ModelPackageName: p.ModelPackageGroupName,
        ModelPackageGroupName: p.ModelPackageGroupName,
        ModelPackageVersion: p.ModelPackageVersion,
        ModelPackageArn: p.ModelPackageArn,
        ...(typeof p.ModelPackageDescription === 'string' ? { ModelPackageDescription: p.ModelPackageDescription } : {}),
        CreationTime: p.CreationTime,
        ModelPackageStatus: 'Completed',
        ModelApprovalStatus: p.ModelApprovalStatus,
      })),
      ...(start + max < list.length ? { NextToken: String(start + max) } : {}),
    };
  }

  private packagesOf(group: GroupRecord): PackageRecord[] {
    return this.packages.values().filter((p) => p.ModelPackageGroupName === group.ModelPackageGroupName);
  }
}

/** The store's file name of a package (group names are `[a-zA-Z0-9-]`, so `.` cannot clash). */
const packageKey = (groupLower: string, version: number): string => `${groupLower}.${version}`;
