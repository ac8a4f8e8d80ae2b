/**
 * The local cloud's ECR: the image index a build pushes to and SageMaker resolves image URIs
 * from (see images.ts). Other services use it only through this module.
 */
export { ImageIndex, ImageTagAlreadyExistsError, parseImageUri, type ImageRecord, type ParsedImageUri } from './images';
