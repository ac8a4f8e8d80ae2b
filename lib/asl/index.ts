export { AslRenderError, placeholdersOf, renderAsl } from './render';
