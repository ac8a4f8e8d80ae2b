import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { METRICS, METRICS_NAMESPACE, type MetricKey } from '../../metrics';

/** Properties of {@link ModelDashboard}. */
export interface ModelDashboardProps {
  /** @default a generated name */
  readonly dashboardName?: string;
  /** SageMaker resources are named `<sagemakerPrefix><model>-production` (lambdas/shared/names.ts). */
  readonly sagemakerPrefix: string;
  /** The production variant's name (lambdas/shared/names.ts VARIANT_NAME). */
  readonly variantName: string;
}

/**
 * The one CloudWatch dashboard of a deployment: releases of every model, then a section for
 * the model chosen in the dashboard's `model` variable (its gate metrics, load-test p99,
 * drift share, time waiting for approval, and the production endpoint's live traffic).
 *
 * Why a variable and SEARCH rather than a section per model: the body names no model, so it
 * is the same for 1 or 300 models (no per-model CloudFormation, no stack update when a model
 * is added, and well under CloudWatch's 500 widgets per dashboard); the variable's choices
 * are the `model` values the metrics carry, so a new model appears after its first release.
 */
export class ModelDashboard extends Construct {
  /** The text every widget of the model section uses for the chosen model; the variable replaces it. */
  static readonly MODEL_PATTERN = 'MLSHIP_MODEL';
  readonly dashboard: cw.Dashboard;

  constructor(scope: Construct, id: string, props: ModelDashboardProps) {
    super(scope, id);
    const model = ModelDashboard.MODEL_PATTERN;
    this.dashboard = new cw.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(14),
      variables: [
        new cw.DashboardVariable({
          id: 'model',
          label: 'Model',
          type: cw.VariableType.PATTERN,
          inputType: cw.VariableInputType.SELECT,
          value: model,
          values: cw.Values.fromSearchComponents({
            namespace: METRICS_NAMESPACE,
            dimensions: schemaDimensions('releaseOutcome'),
            metricName: METRICS.releaseOutcome.name,
            populateFrom: 'model',
          }),
          defaultValue: cw.DefaultValue.FIRST,
        }),
      ],
    });
    const day = Duration.days(1);
    const hour = Duration.hours(1);
    this.dashboard.addWidgets(
      new cw.TextWidget({
        markdown: `# mlship releases\nEvery model, from the release tasks' metrics (namespace \`${METRICS_NAMESPACE}\`). Choose a model above for its section.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      graph('Release outcomes, all models (per day)', [search('releaseOutcome', 'Sum', day)], 24),
      new cw.TextWidget({ markdown: `## Model ${model}`, width: 24, height: 1 }),
      graph('Release outcomes (per day)', [search('releaseOutcome', 'Sum', day, model)]),
      graph('Gate metrics per release', [search('gateMetric', 'Average', hour, model)]),
      graph('Quality gate passed (1) / failed (0)', [search('qualityGatePassed', 'Minimum', hour, model)]),
      graph('Load test p99 (ms)', [search('loadTestP99', 'Maximum', hour, model)]),
      graph('Load test error rate', [search('loadTestErrorRate', 'Maximum', hour, model)]),
      graph('Drift share per check', [search('driftShare', 'Maximum', hour, model)]),
      graph('Time waiting for approval (s)', [search('approvalWait', 'Maximum', day, model)]),
      ...this.liveTraffic(props, model),
    );
  }

  /** The production endpoint's traffic, from SageMaker's own AWS/SageMaker metrics. */
  private liveTraffic(props: ModelDashboardProps, model: string): cw.IWidget[] {
    const endpoint = `${props.sagemakerPrefix}${model}-production`;
    const sm = (metric: string, stat: string) =>
      new cw.MathExpression({
        expression: `SEARCH('{AWS/SageMaker,EndpointName,VariantName} MetricName="${metric}" EndpointName="${endpoint}" VariantName="${props.variantName}"', '${stat}', 60)`,
        label: '',
        period: Duration.minutes(1),
      });
    return [
      graph('Production invocations and 5XX errors (per minute)', [sm('Invocations', 'Sum'), sm('Invocation5XXErrors', 'Sum')]),
      graph('Production model latency p50 / p99 (µs)', [sm('ModelLatency', 'p50'), sm('ModelLatency', 'p99')]),
    ];
  }
}

/** The dimensions of a metric as CloudWatch stores it: its own plus Powertools' `service`. */
function schemaDimensions(key: MetricKey): string[] {
  return [...METRICS[key].dimensions, 'service'].sort();
}

/** A SEARCH over one custom metric, for every model or for one. */
function search(key: MetricKey, stat: string, period: Duration, model?: string): cw.MathExpression {
  const schema = [METRICS_NAMESPACE, ...schemaDimensions(key)].join(',');
  const filter = model ? ` model="${model}"` : '';
  return new cw.MathExpression({
    expression: `SEARCH('{${schema}} MetricName="${METRICS[key].name}"${filter}', '${stat}', ${period.toSeconds()})`,
    label: '',
    period,
  });
}

const graph = (title: string, left: cw.IMetric[], width = 8): cw.GraphWidget => new cw.GraphWidget({ title, left, width, height: 6 });
