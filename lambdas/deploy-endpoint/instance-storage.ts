/**
 * Which SageMaker hosting instance types accept an endpoint config `KmsKeyId`.
 *
 * Source: the SageMaker API Reference, CreateEndpointConfig, `KmsKeyId`
 * (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html,
 * the same text is in botocore's `sagemaker/2017-07-24/service-2.json`): "Certain Nitro-based
 * instances include local storage ... Local storage volumes are encrypted using a hardware
 * module on the instance. You can't request a KmsKeyId when using an instance type with local
 * storage ... If you specify a value for KmsKeyId when using any nitro-based instances with
 * local storage, the call to CreateEndpointConfig fails." The instance types with local
 * storage are those of the EC2 User Guide, "Instance store volumes"
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/InstanceStorage.html), here for the
 * families in botocore's `ProductionVariantInstanceType` enum (botocore 1.43).
 */

/** Families whose instances carry local NVMe instance storage: no `KmsKeyId`. */
export const LOCAL_STORAGE_FAMILIES: ReadonlySet<string> = new Set([
  'c5d',
  'c6gd',
  'dl1',
  'g4dn',
  'g5',
  'g6',
  'g6e',
  'g7e',
  'm5d',
  'm6gd',
  'p3dn',
  'p4d',
  'p4de',
  'p5',
  'p5e',
  'p5en',
  'p6-b200',
  'p6-b300',
  'p6e-gb200',
  'r5d',
  'r6gd',
  'r7gd',
  'trn1',
  'trn1n',
  'trn2',
]);

/** Families on EBS storage alone: `KmsKeyId` encrypts their volume. */
export const EBS_ONLY_FAMILIES: ReadonlySet<string> = new Set([
  'c4',
  'c5',
  'c6g',
  'c6gn',
  'c6i',
  'c6in',
  'c7g',
  'c7i',
  'c8g',
  'inf1',
  'inf2',
  'm4',
  'm5',
  'm6g',
  'm6i',
  'm7i',
  'm8g',
  'p2',
  'p3',
  'r5',
  'r6g',
  'r6i',
  'r7i',
  'r8g',
  't2',
]);

/**
 * Whether an endpoint config for this instance type (`ml.<family>.<size>`) may carry a
 * `KmsKeyId`. A family in neither table follows EC2's naming: a `d` among the letters after
 * the generation number (m7gd, c6id, ...) means local instance storage.
 */
export function acceptsKmsKeyId(instanceType: string): boolean {
  const family = instanceType.replace(/^ml\./, '').split('.')[0] ?? '';
  if (LOCAL_STORAGE_FAMILIES.has(family)) return false;
  if (EBS_ONLY_FAMILIES.has(family)) return true;
  const attributes = /^[a-z]+\d+([a-z-]*)/.exec(family)?.[1] ?? '';
  return !attributes.includes('d');
}
