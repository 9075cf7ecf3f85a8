export * from './errors';
export * from './progress';
export * from './inventory';
export * from './execute';
export * from './run';
export * from './remove';
export * from './held';
