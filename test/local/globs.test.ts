import { describe, expect, it } from 'vitest';
import { matchingFiles, pathMatcher } from '../../lib/config/globs';

describe('Function: pathMatcher (CodePipeline V2 file-path filters)', () => {
  it.each([
    [['models/delivery-time/**'], 'models/delivery-time/src/train.py', true, '** crosses directories'],
    [['models/delivery-time/**'], 'models/delivery-time-v2/src/train.py', false, 'a longer directory name is another directory'],
    [['models/*/model.yaml'], 'models/a/model.yaml', true, '* matches one segment'],
    [['models/*/model.yaml'], 'models/a/b/model.yaml', false, '* does not cross /'],
    [['*.md'], 'README.md', true, 'root-level file'],
    [['*.md'], 'docs/README.md', false, '* at the root does not reach subdirectories'],
    [['**/*.md'], 'docs/deep/README.md', true, '**/ matches any depth'],
    [['**/*.md'], 'README.md', true, '**/ matches zero directories'],
    [['models/m/v?.py'], 'models/m/v1.py', true, '? matches one character'],
    [['models/m/v?.py'], 'models/m/v10.py', false, '? matches exactly one'],
    [['models/m/{src,tests}/**'], 'models/m/tests/test_a.py', true, 'brace alternatives'],
    [['models/m/{src,tests}/**'], 'models/m/docs/a.md', false, 'brace alternatives exclude others'],
    [['models/m/[ab].py'], 'models/m/b.py', true, 'character class'],
    [['models/m/**'], 'models/m/.env', true, 'dot-files are ordinary files'],
    [['shared/**', 'models/m/**'], 'shared/lib/util.py', true, 'any of several globs'],
    [['./models/m/**'], 'models/m/a.py', true, 'a leading ./ is the repository root'],
  ])('%j on %s -> %s (%s)', (globs, path, expected) => {
    expect(pathMatcher(globs as string[])(path as string)).toBe(expected);
  });

  it('selects the matching changed files of a push', () => {
    expect(matchingFiles(['models/a/**', 'lib/*.py'], ['models/a/x.py', 'models/b/y.py', 'lib/z.py', 'lib/sub/w.py'])).toEqual([
      'models/a/x.py',
      'lib/z.py',
    ]);
  });
});
