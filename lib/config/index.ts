export * from './manifest';
export * from './training';
export * from './discover';
export * from './blue-green';
export * from './rollback-alarms';
export * from './names';
