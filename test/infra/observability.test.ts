import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS, METRICS_NAMESPACE } from '../../lib/metrics';
import { TASK_NAMES, type TaskName } from '../../lib/tasks';
import { synthesize, type Synthesized } from './helpers';

/**
 * Issue 20 on AWS: the CloudWatch dashboard over the tasks' custom metrics, the metric
 * namespace the functions emit to, and the SageMaker Model Registry grants.
 */

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;
type Statement = { Action: string | string[]; Resource: unknown };

let s: Synthesized;
let platform: Resources;
beforeAll(() => {
  s = synthesize();
  platform = s.platformTemplate.toJSON().Resources;
});

const ofType = (type: string) => Object.entries(platform).filter(([, r]) => r.Type === type);
const statementsOf = (task: TaskName): Statement[] =>
  ofType('AWS::IAM::Policy')
    .filter(([id]) => id.startsWith(`Tasks${task}RoleDefaultPolicy`))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
const MODEL_REGISTRY_ACTIONS = ['sagemaker:CreateModelPackage', 'sagemaker:CreateModelPackageGroup', 'sagemaker:UpdateModelPackage'];

/** The dashboard body as CloudFormation renders it, its tokens joined back into one JSON text. */
function dashboardBody(): { text: string; body: any } {
  const dashboards = ofType('AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  const raw = dashboards[0]![1].Properties.DashboardBody;
  const text =
    typeof raw === 'string'
      ? raw
      : (raw['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : `<<${JSON.stringify(p).replace(/"/g, "'")}>>`)).join('');
  return { text, body: JSON.parse(text) };
}

describe('Class: PlatformStack (observability)', () => {
  describe('Method: constructor (dashboard)', () => {
    it('creates one dashboard per deployment whose widgets find every custom metric by SEARCH in the namespace the tasks emit to', () => {
      const { text } = dashboardBody();
      for (const metric of Object.values(METRICS)) {
        const schema = [METRICS_NAMESPACE, ...[...metric.dimensions, 'service'].sort()].join(',');
        expect(text, metric.name).toContain(`SEARCH('{${schema}} MetricName=\\"${metric.name}\\"`);
      }
      // Live traffic of the chosen model's production endpoint, from SageMaker's own metrics.
      expect(text).toMatch(/AWS\/SageMaker,EndpointName,VariantName/);
      expect(text).toContain('Invocation5XXErrors');
    });

    it('has a section per model chosen with a dashboard variable over the model dimension, not per-model resources', () => {
      const { body, text } = dashboardBody();
      expect(body.variables).toEqual([
        expect.objectContaining({
          type: 'pattern',
          inputType: 'select',
          search: expect.stringContaining(`{${METRICS_NAMESPACE},`),
          populateFrom: 'model',
        }),
      ]);
      // The body does not grow with the models: none of the fixture models is named in it.
      for (const m of s.models) expect(text).not.toContain(`"${m.manifest.name}"`);
    });

    it('emits to the dashboard namespace from every task function', () => {
      for (const [, fn] of ofType('AWS::Lambda::Function').filter(([id]) => id.startsWith('Tasks')))
        expect(fn.Properties.Environment.Variables.POWERTOOLS_METRICS_NAMESPACE).toBe(METRICS_NAMESPACE);
    });
  });

  describe('Method: constructor (SageMaker Model Registry)', () => {
    // ModelLease records the outcome of the release it supersedes, as RecordOutcome does.
    const REGISTRY_TASKS: TaskName[] = ['RequestApproval', 'RecordOutcome', 'ModelLease'];

    it('lets RequestApproval, RecordOutcome and ModelLease register packages only in mlship model package groups', () => {
      for (const task of REGISTRY_TASKS) {
        const registry = statementsOf(task).filter((st) => [st.Action].flat().some((a) => MODEL_REGISTRY_ACTIONS.includes(a)));
        expect(registry, task).toHaveLength(1);
        expect([registry[0]!.Action].flat().sort()).toEqual(MODEL_REGISTRY_ACTIONS);
        const resources = JSON.stringify(registry[0]!.Resource);
        expect(resources).toContain(':model-package-group/mlship-*');
        expect(resources).toContain(':model-package/mlship-*/*');
        expect(resources).not.toMatch(/"\*"/);
      }
    });

    it('grants the Model Registry to no other task', () => {
      for (const task of TASK_NAMES.filter((t) => !REGISTRY_TASKS.includes(t)))
        expect(
          statementsOf(task)
            .flatMap((st) => [st.Action].flat())
            .filter((a) => MODEL_REGISTRY_ACTIONS.includes(a)),
          task,
        ).toEqual([]);
    });
  });
});
