export * from './clearing.state';
export * from './evolve';
export * from './validate';
export * from './handle-input';
export * from './views';
export * from './clearing-engine';
export * from './snapshot';
export * from './what-if';
