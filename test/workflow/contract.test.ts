import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DescribeEndpointCommand, SageMakerClient } from '@aws-sdk/client-sagemaker';
import { MODEL, WorkflowHarness } from './harness';

/**
 * The contract check: every AWS request the task handlers send during a release, recorded at
 * the edge, satisfies AWS's own service models (lib/local/core/aws-models). A request the models
 * refuse would be refused on AWS too, however the local services would have taken it.
 */

let h: WorkflowHarness;

beforeAll(async () => {
  h = await WorkflowHarness.start();
});
afterAll(async () => {
  await h?.close();
});

describe('Contract: the task handlers against AWS service models', () => {
  it('sends only requests the models accept through a whole release, covering every service it uses', async () => {
    // Act
    const { record, executionArn } = await h.releaseApproved({});

    // Assess
    expect(record.status, await h.explain(executionArn)).toBe('SUCCEEDED');
    const sent = h.taskRequests();
    const operations = [...new Set(sent.map((r) => `${r.service}:${r.operation}`))].sort();
    expect(operations).toEqual(
      expect.arrayContaining([
        'codebuild:BatchGetBuilds',
        'codebuild:StartBuild',
        'sagemaker-runtime:InvokeEndpoint',
        'sagemaker:CreateEndpoint',
        'sagemaker:CreateEndpointConfig',
        'sagemaker:CreateModel',
        // The SageMaker Model Registry mirror (issue 20).
        'sagemaker:CreateModelPackage',
        'sagemaker:CreateModelPackageGroup',
        'sagemaker:UpdateModelPackage',
        'sagemaker:DescribeEndpoint',
        'sns:Publish',
        'stepfunctions:SendTaskSuccess',
      ]),
    );
    expect(sent.filter((r) => r.violations.length > 0)).toEqual([]);
  });

  it('counts and refuses a request outside the models (an endpoint name out of its pattern)', async () => {
    // Prepare: a client with the task credential, as a handler's
    const sagemaker = new SageMakerClient({ endpoint: h.cloud.endpoint, region: 'us-east-1' });
    const before = h.taskRequests().length;

    // Act
    const refused = await sagemaker.send(new DescribeEndpointCommand({ EndpointName: `${MODEL}_production` })).catch((err: Error) => err);
    sagemaker.destroy();

    // Assess
    expect((refused as Error).name).toBe('ValidationException');
    expect(h.taskRequests().slice(before)).toMatchObject([
      { service: 'sagemaker', operation: 'DescribeEndpoint', violations: [{ path: 'endpointName' }] },
    ]);
    // Sent on purpose: off the record, so that close() holds the handlers' own requests to 0 violations.
    h.requests.splice(h.requests.indexOf(h.taskRequests()[before]!), 1);
  });
});
