export * from './saga.state';
export * from './saga.context';
export * from './margin-saga';
export * from './liquidation';
export * from './bankruptcy';
export * from './withdrawal';
export * from './funding';
export * from './lending-liquidation';
