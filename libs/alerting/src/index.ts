export * from './burrow-rules';
export * from './partition-status';
export * from './consumer-status';
export * from './time-above-objective';
export * from './slo-burn';
export * from './alert-lifecycle';
export * from './rule-definitions';
