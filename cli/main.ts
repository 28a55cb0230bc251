#!/usr/bin/env node
/**
 * The `sealtrail` command: run the service (`start`, or its parts `api` and `worker`), apply
 * migrations, and manage workspaces and API keys.
 */
import { parseArgs } from 'node:util';

const USAGE = `usage: sealtrail <command> [options]

commands:
  start                                 start the whole service locally (PostgreSQL, Temporal, worker, API)
  api | worker                          run one part of the service (needs DATABASE_URL and TEMPORAL_ADDRESS)
  migrate                               apply database migrations
  workspace create <name> [--json]      create a workspace
  workspace list [--json]
  keys create [--workspace ID] [--name NAME] [--permissions ingest,read,admin] [--json]
                                        create an API key; the key is shown once
  keys list [--workspace ID] [--json]
  keys revoke <key-id> [--workspace ID]
  anchor [--date YYYY-MM-DD] [--json]   anchor a closed UTC day now (default yesterday) and wait for confirmation
  bundle --anchor ID [--api URL] [--key KEY] > day.jsonl
                                        download an anchor's bundle: the anchor, then every event with its proof
  proof --event ID [--api URL] [--key KEY] > proof.json
                                        download one event's proof
  verify-bundle <file> --rpc URL [--signer 0x…] [--min-confirmations N] [--threads N] [--quiet]
                                        check a bundle or proof offline against the chain; exit 1 on any failure

Without DATABASE_URL the management commands use the embedded PostgreSQL of a running \`npm start\`,
and --workspace defaults to the workspace it created.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: {
      json: { type: 'boolean', default: false },
      workspace: { type: 'string' },
      name: { type: 'string' },
      permissions: { type: 'string' },
      date: { type: 'string' },
      anchor: { type: 'string' },
      event: { type: 'string' },
      api: { type: 'string' },
      key: { type: 'string' },
      rpc: { type: 'string' },
      signer: { type: 'string' },
      'min-confirmations': { type: 'string' },
      threads: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) { console.log(USAGE); return command || values.help ? 0 : 2; }
  // Each command loads only its own code: the offline verifier, say, has no use for the
  // service's Temporal worker, and loading everything took about a second.
  if (command === 'verify-bundle') {
    // It needs no configuration. Its worker threads start before the rest of the verifier (viem
    // among it) has loaded, and check slices of the file meanwhile.
    const verify = (await import('./verify-bundle-args.ts')).parseVerifyArgs(rest, values);
    const started = (await import('./verifier-threads.ts')).startVerifierThreadsEarly(verify);
    try {
      return await (await import('./verify-bundle.ts')).runVerifyBundleCommand(verify, started);
    } finally {
      await started?.stop();
    }
  }
  const config = (await import('../config/mod.ts')).loadConfig(process.env);
  switch (command) {
    case 'start': case 'api': case 'worker': case 'migrate':
      return await (await import('./service.ts')).runServiceCommand(command, config, (await import('../log/mod.ts')).createLogger(config.logLevel, { service: command }));
    case 'workspace':
      return await (await import('./manage.ts')).runWorkspaceCommand(rest, values, config);
    case 'keys':
      return await (await import('./manage.ts')).runKeysCommand(rest, values, config);
    case 'anchor':
      return await (await import('./anchor.ts')).runAnchorCommand(values, config);
    case 'bundle':
      return await (await import('./anchor.ts')).runBundleCommand(values, config);
    case 'proof':
      return await (await import('./anchor.ts')).runProofCommand(values, config);
    default:
      throw new UsageError(`unknown command '${command}'`);
  }
}

export class UsageError extends Error { override name = 'UsageError'; }

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // A supervised child's IPC channel would keep it alive after its work is done.
  if (process.channel) process.disconnect();
}, (error: unknown) => {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`sealtrail: ${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else if (['ConfigError', 'StartupError', 'CliError'].includes((error as { name?: string }).name ?? '')) {
    console.error(`sealtrail: ${(error as Error).message}`);
    process.exitCode = 1;
  } else {
    console.error(error);
    process.exitCode = 1;
  }
});
