/**
 * `sealtrail anchor [--date YYYY-MM-DD]` runs the anchoring of one closed UTC day now (the
 * same workflow the daily schedule runs), and `sealtrail bundle --anchor ID` /
 * `sealtrail proof --event ID` download what the offline verifier checks.
 */
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import type { Config } from '../config/mod.ts';
import { dayPeriod } from '../core/mod.ts';
import { readLocalInfo } from '../stack/mod.ts';
import { ANCHOR_DAY_WORKFLOW, anchorDayWorkflowId, type AnchorDayResult } from '../workflows/ids.ts';
import { CliError } from './errors.ts';

interface AnchorFlags { date?: string; json?: boolean }

function yesterday(): string {
  return new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
}

/** Starts (or joins) the day's anchoring workflow and waits for its result. */
export async function runAnchorCommand(flags: AnchorFlags, config: Config): Promise<number> {
  const day = flags.date ?? yesterday();
  if (!dayPeriod(day)) throw new CliError(`--date takes a UTC date YYYY-MM-DD; got '${day}'`);
  const address = config.temporal.address ?? `127.0.0.1:${config.temporal.devPort}`;
  const connection = await Connection.connect({ address, connectTimeout: 3000 }).catch((error: Error) => {
    throw new CliError(`cannot reach Temporal at ${address} (${error.message}); is \`npm start\` running, or TEMPORAL_ADDRESS right?`);
  });
  try {
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const workflowId = anchorDayWorkflowId(config.temporal.taskQueue, day);
    let handle;
    try {
      handle = await client.workflow.start(ANCHOR_DAY_WORKFLOW, { workflowId, taskQueue: config.temporal.taskQueue, args: [{ day }] });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      handle = client.workflow.getHandle(workflowId);
    }
    console.error(`anchoring ${day} (workflow ${workflowId}); waiting for the transaction to be confirmed… (Ctrl-C stops waiting, not the anchoring)`);
    let result: AnchorDayResult;
    try {
      result = await handle.result() as AnchorDayResult;
    } catch (error) {
      if (error instanceof WorkflowFailedError) throw new CliError(`anchoring ${day} failed: ${error.cause?.message ?? error.message}`);
      throw error;
    }
    if (flags.json) console.log(JSON.stringify(result, null, 2));
    else if (result.status === 'empty') console.log(`${day}: no events in any workspace; nothing anchored, nothing sent.`);
    else console.log(`${day}: ${result.anchors} workspace anchor(s), ${result.events} events, global root ${result.globalRoot}\n  confirmed in transaction ${result.txHash} (block ${result.blockNumber})`);
    return 0;
  } finally {
    await connection.close();
  }
}

interface DownloadFlags { anchor?: string; event?: string; api?: string; key?: string }

/** Streams an authenticated API download to stdout (the bundle can be large). */
async function download(flags: DownloadFlags, config: Config, path: string): Promise<number> {
  const local = readLocalInfo(config.dataDir);
  const api = (flags.api ?? local?.api_url)?.replace(/\/+$/, '');
  const key = flags.key ?? process.env.SEALTRAIL_API_KEY ?? local?.api_key;
  if (!api) throw new CliError('no API: pass --api URL (or run `npm start`)');
  if (!key) throw new CliError('no API key: pass --key or set SEALTRAIL_API_KEY (a key with the read permission)');
  const res = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${key}` } }).catch((error: Error) => {
    throw new CliError(`cannot reach the API at ${api} (${error.message})`);
  });
  if (!res.ok) {
    const body = await res.json().catch(() => ({})) as { message?: string };
    throw new CliError(`${res.status}: ${body.message ?? res.statusText}`);
  }
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!process.stdout.write(value)) await new Promise((r) => process.stdout.once('drain', r));
  }
  return 0;
}

export async function runBundleCommand(flags: DownloadFlags, config: Config): Promise<number> {
  if (!flags.anchor) throw new CliError('usage: sealtrail bundle --anchor ID [--api URL] [--key KEY] > day.jsonl');
  return await download(flags, config, `/api/v1/anchors/${encodeURIComponent(flags.anchor)}/bundle`);
}

export async function runProofCommand(flags: DownloadFlags, config: Config): Promise<number> {
  if (!flags.event) throw new CliError('usage: sealtrail proof --event ID [--api URL] [--key KEY] > proof.json');
  const code = await download(flags, config, `/api/v1/events/${encodeURIComponent(flags.event)}/proof`);
  process.stdout.write('\n');
  return code;
}
