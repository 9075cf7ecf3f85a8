export * from './media-types';
export * from './digest';
export * from './descriptor';
export * from './reference';
export * from './inventory';
export * from './plan';
export * from './registry-url';
export * from './manifest';
