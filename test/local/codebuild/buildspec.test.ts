import { describe, expect, it } from 'vitest';
import { parseBuildspec } from '../../../lib/local/services/codebuild/buildspec';
import { phaseScript } from '../../../lib/local/services/codebuild/shell';

describe('Function: parseBuildspec', () => {
  it('fills the defaults of a minimal v0.2 buildspec', () => {
    // Act
    const spec = parseBuildspec('version: 0.2\nphases:\n  build:\n    commands:\n      - make\n      - true\n', 'buildspec.yml');

    // Assess
    expect(spec.phases.build).toEqual({ 'on-failure': 'ABORT', commands: ['make', 'true'], finally: [] });
    expect(spec.env).toEqual({ variables: {}, 'exported-variables': [] });
  });

  it('reads discard-paths yes/no like CodeBuild', () => {
    // Act
    const spec = parseBuildspec(
      "version: 0.2\nphases:\n  build:\n    commands: [x]\nartifacts:\n  files: ['**/*']\n  discard-paths: yes\n",
      'b.yml',
    );

    // Assess
    expect(spec.artifacts?.['discard-paths']).toBe(true);
  });

  it.each([
    ['version: 0.1\nphases:\n  build:\n    commands: [x]\n', 'b.yml: version: must be 0.2'],
    ['version: 0.2\nphases:\n  biuld:\n    commands: [x]\n', 'biuld: unknown field in phases'],
    ['version: 0.2\nphases:\n  build:\n    commands:\n      - echo: hi\n', 'phases.build.commands.0: a command must be a string'],
    [
      'version: 0.2\nenv:\n  parameter-store:\n    A: /x\nphases:\n  build:\n    commands: [x]\n',
      'env.parameter-store: not supported by the local cloud',
    ],
    ['version: 0.2\nphases:\n  build:\n    commands: [x]\nartifacts:\n  files: []\n', 'artifacts.files'],
    ['version: 0.2\nphases: [', 'b.yml: not valid YAML (line 2)'],
    ['- a list', 'a buildspec must be a YAML mapping'],
  ])('refuses %j naming the field', (text, message) => {
    // Act + Assess
    expect(() => parseBuildspec(text, 'b.yml')).toThrow(message);
  });
});

describe('Function: phaseScript', () => {
  it('quotes commands for the log lines so quotes in commands survive', () => {
    // Act
    const script = phaseScript({ commands: ["echo 'it''s'"], finally: [], cwd: '/src' }, '/tmp/env', '/tmp/failed');

    // Assess
    expect(script).toContain(`__mlship_log 'echo '\\''it'\\'''\\''s'\\'''`);
    expect(script).toContain("cd '/src' || exit 1");
  });
});
