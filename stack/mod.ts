/** Starting the service's dependencies locally: embedded PostgreSQL, the Temporal dev server, the supervisor. */
export { embeddedDatabaseUrl, localInfoPath, readLocalInfo, startLocalStack, type LocalInfo, type LocalStack } from './local.ts';
export { startEmbeddedPostgres, type EmbeddedPostgres } from './postgres.ts';
export { assertPortFree, spawnManaged, StartupError, waitUntil, type ManagedProcess } from './process.ts';
export { resolveTemporalCli, SEARCH_ATTRIBUTES, startTemporalDevServer, type TemporalDevServer } from './temporal.ts';
export { startLocalEvmNode, type LocalEvmNode } from './evm.ts';
