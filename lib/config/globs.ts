import picomatch from 'picomatch';

/**
 * CodePipeline V2 trigger file-path filters: a push starts a model's release when a changed
 * file matches one of the model's `paths` globs. CodePipeline's glob syntax: `*` matches
 * within one path segment, `**` across segments, `?` one character, `{a,b}` alternatives,
 * `[abc]` a character class; dot-files are ordinary files. picomatch with `dot: true` gives
 * exactly that; brace expansion and `**` are on by default.
 */
const OPTIONS: picomatch.PicomatchOptions = { dot: true, strictSlashes: false };

/** A matcher for a list of globs: true when the path matches any of them. */
export function pathMatcher(globs: readonly string[]): (path: string) => boolean {
  const matchers = globs.map((g) => picomatch(g.replace(/^\.\//, ''), OPTIONS));
  return (path) => matchers.some((m) => m(path));
}

/** The changed files that match the globs. */
export function matchingFiles(globs: readonly string[], files: readonly string[]): string[] {
  const match = pathMatcher(globs);
  return files.filter(match);
}
