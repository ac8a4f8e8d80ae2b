/**
 * Errors of the pure ML code. All are terminal (bad input does not get better on retry):
 * a handler lets them propagate so the state machine's Catch can route on `name`.
 */

/** Base class: every input problem of lambdas/ml is one of these. */
export class MlInputError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MlInputError';
  }
}

/** A dataset, column or window has no rows where at least one is needed. */
export class EmptyDatasetError extends MlInputError {
  constructor(what: string, options?: { cause?: unknown }) {
    super(`${what} is empty: at least one row is needed`, options);
    this.name = 'EmptyDatasetError';
  }
}

/** Two arrays that must be aligned row by row have different lengths. */
export class LengthMismatchError extends MlInputError {
  constructor(
    readonly left: { name: string; length: number },
    readonly right: { name: string; length: number },
  ) {
    super(`${left.name} has ${left.length} rows but ${right.name} has ${right.length}`);
    this.name = 'LengthMismatchError';
  }
}

/** A NaN, Infinity or non-number where a finite number is required. */
export class NonFiniteValueError extends MlInputError {
  constructor(
    readonly field: string,
    readonly row: number,
    readonly value: unknown,
  ) {
    super(`${field}[${row}] is ${String(value)}: a finite number is required`);
    this.name = 'NonFiniteValueError';
  }
}

/** A column named by the feature list is absent from the data. */
export class MissingColumnError extends MlInputError {
  constructor(
    readonly column: string,
    readonly dataset: string,
  ) {
    super(`${dataset} has no column "${column}"`);
    this.name = 'MissingColumnError';
  }
}

/** A class label or category that the declared classes do not contain. */
export class UnknownCategoryError extends MlInputError {
  constructor(
    readonly field: string,
    readonly value: string,
    readonly known: readonly string[],
  ) {
    super(`${field}: unknown category "${value}"; known: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', ...' : ''}`);
    this.name = 'UnknownCategoryError';
  }
}

/** A bad option value (e.g. a bootstrap count of -1, an unknown metric or drift method). */
export class InvalidArgumentError extends MlInputError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidArgumentError';
  }
}

/** A CSV, data-capture or ground-truth text that cannot be parsed; names the line. */
export class ParseError extends MlInputError {
  constructor(
    readonly source: string,
    readonly line: number,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${source} line ${line}: ${detail}`, options);
    this.name = 'ParseError';
  }
}
