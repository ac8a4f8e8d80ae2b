/**
 * The local cloud's git trigger (CodePipeline V2's source and push trigger): the bare
 * repository, its post-receive hook's requests, and the models its branch heads serve.
 */
export {
  commitAuthor,
  ensurePushSecret,
  ensureRepository,
  handlePush,
  parsePushRequest,
  PushRequestError,
  type PushDeps,
  type RefUpdate,
} from './git';
export { servedModels } from './served-models';
