/**
 * SageMaker's rules for a blue/green `UpdateEndpoint` (`DeploymentConfig.BlueGreenUpdatePolicy`),
 * in one place: the manifest refuses a deployment SageMaker would refuse when it loads
 * (before a person approves a release that could never roll out), and the local SageMaker
 * refuses the same requests with `ValidationException`.
 *
 * Sources:
 * - botocore's SageMaker model (`botocore/data/sagemaker/2017-07-24/service-2.json`, botocore
 *   1.43): `TrafficRoutingConfig.CanarySize` "Value must be less than or equal to 50% of the
 *   variant's total instance count"; `LinearStepSize` "Value must be 10-50% of the variant's
 *   total instance count"; `CapacitySizeValue` integer >= 1; `WaitIntervalInSeconds` and
 *   `TerminationWaitInSeconds` 0..3600; `MaximumExecutionTimeoutInSeconds` 600..28800.
 * - SageMaker Developer Guide, "Use canary traffic shifting" and "Use linear traffic shifting"
 *   (https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green-canary.html,
 *   .../deployment-guardrails-blue-green-linear.html): the canary is at most 50 % of the new
 *   fleet's capacity; each linear step 10-50 %.
 *
 * The green fleet turns traffic on in whole instances, so a canary or a linear step is at
 * least one instance; on a one-instance fleet that is 100 % of it, never at most half. A
 * canary or linear rollout therefore needs two instances or more.
 */

/** Limits of SageMaker's blue/green update policy. */
export const BLUE_GREEN_LIMITS = {
  /** Largest canary, as a share of the variant's instances. */
  maxCanaryShare: 0.5,
  /** Smallest and largest linear step, as a share of the variant's instances. */
  minLinearShare: 0.1,
  maxLinearShare: 0.5,
  /** `WaitIntervalInSeconds` and `TerminationWaitInSeconds`. */
  maxWaitSeconds: 3600,
  /** `MaximumExecutionTimeoutInSeconds`. */
  minExecutionTimeoutSeconds: 600,
  maxExecutionTimeoutSeconds: 28_800,
} as const;

/** A traffic step as the API gives it (`CapacitySize`). */
export interface CapacitySize {
  type: 'CAPACITY_PERCENT' | 'INSTANCE_COUNT';
  value: number;
}

/** What a problem is about, so each caller names its own field. */
export type BlueGreenSubject = 'step' | 'instances' | 'wait';

export interface BlueGreenProblem {
  subject: BlueGreenSubject;
  message: string;
}

/**
 * The reasons SageMaker would refuse this traffic routing for a variant of `instances`
 * instances; empty when it is acceptable.
 * @param type the `TrafficRoutingConfig.Type`
 * @param step `CanarySize` (CANARY) or `LinearStepSize` (LINEAR); ignored for ALL_AT_ONCE
 */
export function blueGreenProblems(
  type: 'ALL_AT_ONCE' | 'CANARY' | 'LINEAR',
  step: CapacitySize | undefined,
  instances: number,
  waitSeconds: number,
): BlueGreenProblem[] {
  const out: BlueGreenProblem[] = [];
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > BLUE_GREEN_LIMITS.maxWaitSeconds) {
    out.push({
      subject: 'wait',
      message: `the wait between traffic steps must be 0 to ${BLUE_GREEN_LIMITS.maxWaitSeconds} seconds (SageMaker WaitIntervalInSeconds), got ${waitSeconds}`,
    });
  }
  if (type === 'ALL_AT_ONCE' || !step) return out;
  const canary = type === 'CANARY';
  const what = canary ? 'the canary' : 'a linear step';
  const [min, max] = canary ? [0, BLUE_GREEN_LIMITS.maxCanaryShare] : [BLUE_GREEN_LIMITS.minLinearShare, BLUE_GREEN_LIMITS.maxLinearShare];
  const range = canary ? `at most ${max * 100}%` : `${min * 100}-${max * 100}%`;
  if (!Number.isInteger(step.value) || step.value < 1) {
    out.push({ subject: 'step', message: `${what} must be a whole number >= 1, got ${step.value}` });
    return out;
  }
  if (step.type === 'CAPACITY_PERCENT') {
    if (step.value / 100 < min || step.value / 100 > max)
      out.push({ subject: 'step', message: `${what} must be ${range} of the fleet, got ${step.value}%` });
    else if (instances < 2)
      out.push({
        subject: 'instances',
        message: `${what} is at least one whole instance, the whole of a ${instances}-instance fleet; SageMaker allows ${range}, so ${type.toLowerCase()} needs 2 or more instances`,
      });
  } else {
    const share = step.value / instances;
    if (share < min || share > max)
      out.push({
        subject: 'step',
        message: `${what} of ${step.value} instance(s) must be ${range} of the variant's ${instances} instance(s)`,
      });
  }
  return out;
}
