export * from './topics';
export * from './spark-json';
export * from './progress';
export * from './control';
export type * from './api/responses';
export * from './cpu-limit';
