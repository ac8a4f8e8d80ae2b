export * from './manifest';
export * from './discover';
