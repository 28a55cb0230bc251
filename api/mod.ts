/** The HTTP API: Koa routes per resource, auth, errors and the durable hand-off. */
export { createApp, type App, type AppDeps } from './app.ts';
export { ApiError } from './errors.ts';
export { serveApi, type RunningApi } from './serve.ts';
export { ReadGate, readLimitsFor, type ReadLimits } from './events/read-gate.ts';
