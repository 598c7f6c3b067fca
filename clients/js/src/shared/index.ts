// herald-realtime/shared: one connection for all tabs of an origin. Everything of the main entry,
// and SharedHerald. See README.md, "One connection per browser".

export * from '../index.js';
export { SharedHerald } from './client.js';
export type { SharedHeraldOptions, ShareOptions, ShareRole } from './client.js';
