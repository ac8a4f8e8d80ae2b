export { AslRenderError, placeholdersOf, renderAsl, validateAsl, type ValidationResult } from './render';
