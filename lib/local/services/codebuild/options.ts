import type { S3Client } from '@aws-sdk/client-s3';
import type { DiscoveredModel } from '../../../config';

/** Options of createCodeBuildService; see the module comment of index.ts. Its own module so manager.ts need not import index.ts. */
export interface CodeBuildServiceOptions {
  dataDir: string;
  s3: S3Client;
  bucket: string;
  models: DiscoveredModel[] | (() => DiscoveredModel[]);
  region: string;
  accountId: string;
  timeScale?: number;
  env?: Record<string, string>;
  imageRepositoryPrefix?: string;
}
