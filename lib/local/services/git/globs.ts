/** The trigger globs live with the manifest (lib/config/globs.ts): the AWS release stage matches pushes with them too. */
export { matchingFiles, pathMatcher } from '../../../config/globs';
