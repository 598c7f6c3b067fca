// herald-worker.js: the SharedWorker that holds the one connection of every tab of an origin.
// Built as a classic script (an IIFE), so every browser with SharedWorker runs it; pages start it
// with `new SharedHerald(url, { share: { worker: '/js/herald-worker.js' } })`.

import { serveTabs, type WorkerScope } from './serve.js';

serveTabs(globalThis as unknown as WorkerScope);
