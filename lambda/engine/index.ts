export * from './errors';
export * from './progress';
export * from './inventory';
export * from './execute';
export * from './run';
export * from './ledger';
export * from './restore';
export * from './remove';
