import { MAX_TYPE_ERRORS } from './drift-column';
import type { ConstraintViolations, DriftReport } from './types';

/**
 * SageMaker Model Monitor `constraint_violations.json` for a drift report: baseline_drift_check per
 * drifted column, missing_column_check, extra_column_check, data_type_check (values of the wrong
 * type), completeness_check (current completeness below the reference's), categorical_values_check
 * (categories outside the training domain).
 */
export function toConstraintViolations(report: DriftReport): ConstraintViolations {
  const violations: ConstraintViolations['violations'] = [];
  for (const f of report.schema.missingColumns)
    violations.push({
      feature_name: f,
      constraint_check_type: 'missing_column_check',
      description: `Feature "${f}" is in the baseline but not in the current data`,
    });
  for (const f of report.schema.extraColumns)
    violations.push({
      feature_name: f,
      constraint_check_type: 'extra_column_check',
      description: `Column "${f}" is in the current data but not in the baseline`,
    });
  const typeErrors = new Map<string, { count: number; example: string }>();
  for (const t of report.schema.typeErrors) {
    const e = typeErrors.get(t.column);
    typeErrors.set(t.column, { count: (e?.count ?? 0) + 1, example: e?.example ?? t.value });
  }
  for (const [col, { count, example }] of typeErrors) {
    // The column's own tally counts every skipped value; the list keeps only the first few.
    const c = report.columns.find((x) => x.column === col);
    const exact =
      c?.currentInvalid !== undefined
        ? `${c.currentInvalid} of ${c.currentCount + c.currentMissing + c.currentInvalid}`
        : `${count}${count >= MAX_TYPE_ERRORS ? '+' : ''}`;
    violations.push({
      feature_name: col,
      constraint_check_type: 'data_type_check',
      description: `Column "${col}": ${exact} value(s) are not numbers and were skipped, e.g. ${JSON.stringify(example)}`,
    });
  }
  for (const c of report.columns) {
    if (c.kind === 'text-length') continue; // one completeness/drift line per text feature is enough for completeness
    if (c.currentCompleteness + 1e-12 < c.referenceCompleteness) {
      violations.push({
        feature_name: c.column,
        constraint_check_type: 'completeness_check',
        description: `Completeness ${c.currentCompleteness.toFixed(4)} is below the baseline's ${c.referenceCompleteness.toFixed(4)}`,
      });
    }
    if (c.unknownCategories?.length) {
      violations.push({
        feature_name: c.column,
        constraint_check_type: 'categorical_values_check',
        description: `Values outside the baseline domain: ${c.unknownCategories.map((v) => JSON.stringify(v)).join(', ')}`,
      });
    }
  }
  for (const c of report.columns) {
    if (!c.drifted) continue;
    const how =
      c.pValue !== null
        ? `${c.method} p-value ${c.pValue.toPrecision(4)} < ${c.threshold.toPrecision(3)}`
        : `${c.method} ${c.statistic.toPrecision(4)} >= ${c.threshold.toPrecision(3)}`;
    violations.push({
      feature_name: c.column,
      constraint_check_type: 'baseline_drift_check',
      description: `Drift: ${c.testDrifted ? how : `${c.method} within threshold`}; PSI ${c.psi.toFixed(4)}${c.psiDrifted ? ` >= ${report.options.psiThreshold}` : ''}`,
    });
  }
  return { violations };
}
