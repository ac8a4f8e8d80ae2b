/**
 * The local cloud's S3: an s3rver child process (server.ts, child.mjs) behind the edge, which
 * enforces what s3rver ignores (conditional.ts). Used only through this module.
 */
export { startS3Server, type S3Server, type S3ServerOptions } from './server';
export {
  checkPrecondition,
  headEtag,
  isConditional,
  isObjectRead,
  isObjectWrite,
  KeyLock,
  objectOf,
  s3ErrorXml,
  type S3Refusal,
} from './conditional';
