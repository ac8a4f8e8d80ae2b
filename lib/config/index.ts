export * from './manifest';
export * from './discover';
export * from './blue-green';
export * from './rollback-alarms';
export * from './names';
