import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AslRenderError, placeholdersOf, renderAsl } from '../../../lib/asl';
import { TASKS, WORKFLOWS } from '../../../lib/tasks';

const arn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
const substitutionsFor = (workflow: keyof typeof WORKFLOWS) =>
  Object.fromEntries(WORKFLOWS[workflow].tasks.map((t) => [TASKS[t].placeholder, arn(t)]));

const minimal = (extra: Record<string, unknown> = {}, placeholder = '${FnArn}') => ({
  StartAt: 'Run',
  States: {
    Run: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: placeholder, 'Payload.$': '$' },
      End: true,
      ...extra,
    },
  },
});

describe('Function: renderAsl', () => {
  let dir: string;
  const write = (name: string, doc: unknown): string => {
    const file = join(dir, name);
    writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
    return file;
  };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlship-asl-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('renders both workflow files with the task ARNs of lib/tasks.ts', () => {
    for (const workflow of Object.keys(WORKFLOWS) as (keyof typeof WORKFLOWS)[]) {
      // Act
      const rendered = renderAsl(WORKFLOWS[workflow].file, substitutionsFor(workflow));

      // Assess
      expect(rendered).not.toMatch(/\$\{[A-Za-z_]/);
      const definition = JSON.parse(rendered) as { States: Record<string, { Parameters?: { FunctionName?: string } }> };
      const functions = new Set(
        Object.values(definition.States)
          .map((s) => s.Parameters?.FunctionName)
          .filter(Boolean),
      );
      expect([...functions].sort()).toEqual(WORKFLOWS[workflow].tasks.map((t) => arn(t)).sort());
    }
  });

  it('inserts values verbatim in one pass, so a CDK token is never substituted again', () => {
    // Prepare
    const file = write('tokens.asl.json', {
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: '${FnA}' }, Next: 'B' },
        B: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: '${FnB}' }, End: true },
      },
    });

    // Act
    const rendered = JSON.parse(renderAsl(file, { FnA: '${Token[TOKEN.12]}', FnB: '${FnA}"quoted"' })) as {
      States: Record<string, { Parameters: { FunctionName: string } }>;
    };

    // Assess
    expect(rendered.States.A!.Parameters.FunctionName).toBe('${Token[TOKEN.12]}');
    expect(rendered.States.B!.Parameters.FunctionName).toBe('${FnA}"quoted"');
  });

  it('throws naming the file and the placeholder when a placeholder has no substitution', () => {
    // Prepare
    const file = write('missing.asl.json', minimal());

    // Act & Assess
    expect(() => renderAsl(file, {})).toThrow(AslRenderError);
    expect(() => renderAsl(file, {})).toThrow(/missing\.asl\.json: placeholder \$\{FnArn\} has no substitution/);
  });

  it('throws naming the substitution that the file does not use', () => {
    // Prepare
    const file = write('unused.asl.json', minimal());

    // Act & Assess
    expect(() => renderAsl(file, { FnArn: arn('x'), Extra: 'y' })).toThrow(/unused\.asl\.json: substitution "Extra" is not used/);
  });

  it('refuses JSONata at the top level and in a state', () => {
    // Prepare
    const top = write('jsonata-top.asl.json', { QueryLanguage: 'JSONata', ...minimal() });
    const inState = write('jsonata-state.asl.json', minimal({ QueryLanguage: 'JSONata' }));

    // Act & Assess
    expect(() => renderAsl(top, { FnArn: arn('x') })).toThrow(
      /jsonata-top\.asl\.json: \$\.QueryLanguage: "QueryLanguage": "JSONata" is not supported/,
    );
    expect(() => renderAsl(inState, { FnArn: arn('x') })).toThrow(/\$\.States\.Run\.QueryLanguage/);
  });

  it('refuses Assign (workflow variables)', () => {
    // Prepare
    const file = write('assign.asl.json', minimal({ Assign: { x: 1 } }));

    // Act & Assess
    expect(() => renderAsl(file, { FnArn: arn('x') })).toThrow(/assign\.asl\.json: \$\.States\.Run\.Assign: "Assign"/);
  });

  it('accepts "QueryLanguage": "JSONPath", which is the default spelled out', () => {
    // Prepare
    const file = write('jsonpath.asl.json', { QueryLanguage: 'JSONPath', ...minimal() });

    // Act & Assess
    expect(() => renderAsl(file, { FnArn: arn('x') })).not.toThrow();
  });

  it("throws with asl-validator's messages on an invalid definition", () => {
    // Prepare: a Next to a state that does not exist
    const file = write('invalid.asl.json', minimal({ End: undefined, Next: 'Nowhere' }));

    // Act & Assess
    expect(() => renderAsl(file, { FnArn: arn('x') })).toThrow(/invalid\.asl\.json: invalid state machine definition: .*Nowhere/);
  });

  it('throws naming the file when it is not JSON or does not exist', () => {
    // Prepare
    const broken = write('broken.asl.json', '{ "StartAt": ');

    // Act & Assess
    expect(() => renderAsl(broken, {})).toThrow(/broken\.asl\.json: not valid JSON/);
    expect(() => renderAsl(join(dir, 'absent.asl.json'), {})).toThrow(/absent\.asl\.json: cannot read/);
  });
});

describe('Function: placeholdersOf', () => {
  it('lists each placeholder of a workflow once: exactly the placeholders of its tasks', () => {
    for (const workflow of Object.values(WORKFLOWS)) {
      // Act
      const found = placeholdersOf(workflow.file);

      // Assess
      expect(found.length).toBe(new Set(found).size);
      expect([...found].sort()).toEqual(workflow.tasks.map((t) => TASKS[t].placeholder).sort());
    }
  });
});
