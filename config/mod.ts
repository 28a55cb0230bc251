import { join } from 'node:path';
import { z } from 'zod';

/** The project's root folder: where `.sealtrail/` and `.tools/` live by default. */
export const PROJECT_ROOT = join(import.meta.dirname, '..');

const port = z.coerce.number().int().min(1).max(65_535);
const positiveInt = z.coerce.number().int().positive();
const optionalText = z.string().trim().min(1).optional();

/** Chains an anchor can go to; `local` is the development node `npm start` runs. */
export const ANCHOR_CHAINS = ['local', 'base', 'base-sepolia'] as const;
export type AnchorChainName = (typeof ANCHOR_CHAINS)[number];

/** Per chain: id, confirmations waited for by default, and the explorer a transaction links to. */
export const ANCHOR_CHAIN_DEFAULTS: Record<AnchorChainName, { chainId: number; confirmations: number; explorerUrl?: string }> = {
  local: { chainId: 31337, confirmations: 1 },
  base: { chainId: 8453, confirmations: 10, explorerUrl: 'https://basescan.org' },
  'base-sepolia': { chainId: 84532, confirmations: 5, explorerUrl: 'https://sepolia.basescan.org' },
};

const schema = z.object({
  SEALTRAIL_DATA_DIR: z.string().min(1).default(join(PROJECT_ROOT, '.sealtrail')),
  SEALTRAIL_TOOLS_DIR: z.string().min(1).default(join(PROJECT_ROOT, '.tools')),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),

  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  EMBEDDED_PG_PORT: port.default(54329),
  DATABASE_POOL_SIZE: positiveInt.max(200).default(10),

  TEMPORAL_ADDRESS: optionalText,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('sealtrail'),
  TEMPORAL_CLI: optionalText,
  TEMPORAL_DEV_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_UI_URL: z.url().optional(),
  TEMPORAL_WORKFLOW_BUNDLE: optionalText,

  GEOIP_CITY_IPV4: optionalText,
  GEOIP_CITY_IPV6: optionalText,

  INGEST_GROUP_COMMIT_MS: z.coerce.number().min(0).max(1000).default(4),
  INGEST_GROUP_MAX_EVENTS: positiveInt.max(10_000).default(1000),
  // Unset: the API's own default (DEFAULT_WORKFLOW_INTERVAL_MS, api/events/workflow-starter.ts).
  INGEST_WORKFLOW_INTERVAL_MS: z.coerce.number().int().min(0).max(10_000).optional(),
  RECOVERY_SWEEP_SECONDS: positiveInt.default(30),
  RECOVERY_MIN_AGE_SECONDS: positiveInt.default(15),

  EVM_RPC_URL: z.url({ protocol: /^https?$/ }).optional(),
  EVM_PORT: port.default(8545),
  ANCHOR_CHAIN: z.enum(ANCHOR_CHAINS).default('local'),
  ANCHOR_PRIVATE_KEY: z.string().trim().regex(/^0x[0-9a-fA-F]{64}$/, 'must be 0x followed by 64 hex digits').optional(),
  ANCHOR_CONFIRMATIONS: positiveInt.max(1000).optional(),
  ANCHOR_EXPLORER_URL: z.url({ protocol: /^https?$/ }).optional(),
  ANCHOR_SCHEDULE_MINUTE: z.coerce.number().int().min(0).max(1439).default(10),
  PUBLIC_RATE_LIMIT_PER_MINUTE: positiveInt.max(100_000).default(60),
  PUBLIC_RATE_LIMIT_BURST: positiveInt.max(100_000).default(20),
});

export type Env = z.input<typeof schema>;

export interface Config {
  dataDir: string;
  /** Project-local tools installed on demand (the Temporal CLI's virtualenv). */
  toolsDir: string;
  api: { host: string; port: number };
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  database: { url?: string; embeddedPort: number; poolSize: number };
  temporal: {
    address?: string; namespace: string; taskQueue: string;
    cli?: string; devPort: number; uiPort: number; uiUrl?: string;
    /** A prebuilt workflow bundle (faster worker start); bundled at start when unset. */
    workflowBundle?: string;
  };
  geo: { ipv4Path?: string; ipv6Path?: string };
  ingest: { groupCommitMs: number; groupMaxEvents: number; workflowIntervalMs?: number; recoverySweepSeconds: number; recoveryMinAgeSeconds: number };
  anchor: {
    /** JSON-RPC endpoint; unset, `npm start` runs a local node and anchoring is off elsewhere. */
    rpcUrl?: string;
    chain: AnchorChainName;
    chainId: number;
    /** The signer's key (a secret: never logged). Required for base and base-sepolia. */
    privateKey?: `0x${string}`;
    confirmations: number;
    explorerUrl?: string;
    /** Port of the local node `npm start` runs. */
    evmPort: number;
    /** Minutes after 00:00 UTC at which the previous day is anchored. */
    scheduleMinute: number;
  };
  publicRateLimit: { perMinute: number; burst: number };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads the configuration once from environment variables and validates it. A wrong value stops
 * start-up with a message naming the variable (see docs/configuration.md for every variable).
 *
 * ```ts
 * const config = loadConfig(process.env);
 * ```
 */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings mean "unset", as in most shells' `FOO= cmd`.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    // A secret's value is never echoed, not even when it is malformed.
    const shown = variable === 'ANCHOR_PRIVATE_KEY' ? '(hidden)' : JSON.stringify(env[variable]);
    throw new ConfigError(`invalid configuration: ${variable}=${shown}: ${issue.message}`);
  }
  const e = parsed.data;
  return {
    dataDir: e.SEALTRAIL_DATA_DIR,
    toolsDir: e.SEALTRAIL_TOOLS_DIR,
    api: { host: e.API_HOST, port: e.API_PORT },
    logLevel: e.LOG_LEVEL,
    database: { url: e.DATABASE_URL, embeddedPort: e.EMBEDDED_PG_PORT, poolSize: e.DATABASE_POOL_SIZE },
    temporal: {
      address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE, taskQueue: e.TEMPORAL_TASK_QUEUE,
      cli: e.TEMPORAL_CLI, devPort: e.TEMPORAL_DEV_PORT, uiPort: e.TEMPORAL_UI_PORT, uiUrl: e.TEMPORAL_UI_URL,
      workflowBundle: e.TEMPORAL_WORKFLOW_BUNDLE,
    },
    geo: { ipv4Path: e.GEOIP_CITY_IPV4, ipv6Path: e.GEOIP_CITY_IPV6 },
    ingest: {
      groupCommitMs: e.INGEST_GROUP_COMMIT_MS, groupMaxEvents: e.INGEST_GROUP_MAX_EVENTS, workflowIntervalMs: e.INGEST_WORKFLOW_INTERVAL_MS,
      recoverySweepSeconds: e.RECOVERY_SWEEP_SECONDS, recoveryMinAgeSeconds: e.RECOVERY_MIN_AGE_SECONDS,
    },
    anchor: {
      rpcUrl: e.EVM_RPC_URL, chain: e.ANCHOR_CHAIN, chainId: ANCHOR_CHAIN_DEFAULTS[e.ANCHOR_CHAIN].chainId,
      privateKey: e.ANCHOR_PRIVATE_KEY?.toLowerCase() as `0x${string}` | undefined,
      confirmations: e.ANCHOR_CONFIRMATIONS ?? ANCHOR_CHAIN_DEFAULTS[e.ANCHOR_CHAIN].confirmations,
      explorerUrl: (e.ANCHOR_EXPLORER_URL ?? ANCHOR_CHAIN_DEFAULTS[e.ANCHOR_CHAIN].explorerUrl)?.replace(/\/+$/, ''),
      evmPort: e.EVM_PORT, scheduleMinute: e.ANCHOR_SCHEDULE_MINUTE,
    },
    publicRateLimit: { perMinute: e.PUBLIC_RATE_LIMIT_PER_MINUTE, burst: e.PUBLIC_RATE_LIMIT_BURST },
  };
}

/** The value of a setting a process cannot run without, or a ConfigError naming its variable. */
export function required<T>(value: T | undefined, variable: string): T {
  if (value === undefined) throw new ConfigError(`missing configuration: ${variable} must be set`);
  return value;
}
