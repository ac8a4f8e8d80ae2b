import { Annotations, CfnParameter, CfnRule, Fn, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';

/** A deployment value the app needs from the person deploying (CDK context). */
export interface RequiredValue {
  /** The context key, e.g. `connectionArn`. */
  readonly name: string;
  /** The value given, if any. */
  readonly value?: string;
  /** What stands in for it when missing; must be impossible as a real value. */
  readonly placeholder: string;
  /** How to give it, e.g. `-c connectionArn=arn:aws:codeconnections:...`. */
  readonly hint: string;
}

/** Properties of {@link RequiredValues}. */
export interface RequiredValuesProps {
  readonly values: readonly RequiredValue[];
}

/**
 * Lets `cdk synth` succeed without deployment values while making a deployment with one
 * missing fail before anything is created.
 *
 * A missing value becomes a CloudFormation parameter whose default is a clearly named
 * placeholder, plus a template rule (`Rules`) asserting that the parameter is not the
 * placeholder. CloudFormation evaluates rules when it creates a change set, before any
 * resource is touched, and fails with the rule's description, which names the value and
 * how to set it. Synth prints one warning per missing value. A value that was given is
 * used literally: no parameter, no rule.
 */
export class RequiredValues extends Construct {
  private readonly resolved = new Map<string, string>();
  /** Names of the values that are missing. */
  readonly missing: string[] = [];

  constructor(scope: Construct, id: string, props: RequiredValuesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    for (const v of props.values) {
      if (!/^[a-zA-Z][a-zA-Z0-9]*$/.test(v.name)) throw new Error(`${this.node.path}: value name "${v.name}" must be alphanumeric`);
      if (this.resolved.has(v.name)) throw new Error(`${this.node.path}: value "${v.name}" is listed twice`);
      if (v.value !== undefined && v.value !== '') {
        if (v.value === v.placeholder) throw new Error(`${v.name}: "${v.value}" is the placeholder, not a value; ${v.hint}`);
        this.resolved.set(v.name, v.value);
        continue;
      }
      this.missing.push(v.name);
      const logicalName = v.name[0]!.toUpperCase() + v.name.slice(1);
      // Parameters and rules live at the stack's top level so their logical ids are the
      // readable names the failure message mentions.
      const parameter = new CfnParameter(stack, logicalName, {
        type: 'String',
        default: v.placeholder,
        description: `${v.name} was not given at synth time; ${v.hint}`,
      });
      new CfnRule(stack, `${logicalName}IsSet`, {
        assertions: [
          {
            assert: Fn.conditionNot(Fn.conditionEquals(parameter.valueAsString, v.placeholder)),
            assertDescription: `${v.name} is missing: ${v.hint} and synthesize again (or pass --parameters ${logicalName}=...)`,
          },
        ],
      });
      Annotations.of(stack).addWarningV2(
        `mlship:missing-${v.name}`,
        `${v.name} is not set; using the placeholder "${v.placeholder}". A deployment fails until it is set: ${v.hint}`,
      );
      this.resolved.set(v.name, parameter.valueAsString);
    }
  }

  /** The value to use: the literal given, or the parameter standing in for it. */
  value(name: string): string {
    const v = this.resolved.get(name);
    if (v === undefined) throw new Error(`${this.node.path}: no value "${name}"`);
    return v;
  }
}
