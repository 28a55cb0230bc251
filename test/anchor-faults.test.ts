/**
 * Anchoring when things go wrong, against real PostgreSQL, Temporal and EVM nodes: the chain
 * is down, the process dies between signing and broadcasting, the signer's nonce is taken by
 * another transaction, the local chain is restarted. Whatever happens, the day's root ends up
 * on chain in exactly one transaction, and the anchor says why it is waiting.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { PublicClient } from 'viem';
import { prepareAnchorRun } from '../activities/anchoring/prepare.ts';
import { sendAnchorTransaction } from '../activities/anchoring/send.ts';
import type { AnchorChain } from '../activities/mod.ts';
import { silentLogger } from '../log/mod.ts';
import { startLocalEvmNode, type LocalEvmNode } from '../stack/mod.ts';
import { findRun } from '../store/mod.ts';
import { ANCHOR_DAY_WORKFLOW, anchorDayWorkflowId, type AnchorDayResult } from '../workflows/ids.ts';
import { appendDay, sentTransactions } from './anchor-fixtures.ts';
import { createTestContext, eventually, type TestContext } from './support/context.ts';
import { freePort } from './support/runtime.ts';

/** The chain with a node that drops the first broadcast, as if the process died right after signing. */
function crashingOnFirstBroadcast(chain: AnchorChain): AnchorChain {
  let crashed = false;
  const client = new Proxy(chain.client, {
    get(target, prop, receiver) {
      if (prop === 'sendRawTransaction' && !crashed) {
        return async () => { crashed = true; throw new Error('connection reset (simulated crash after signing)'); };
      }
      return Reflect.get(target, prop, receiver);
    },
  }) as PublicClient;
  return { ...chain, client };
}

describe('a process that dies between signing and broadcasting', () => {
  let ctx: TestContext;
  beforeAll(async () => { ctx = await createTestContext({ anchoring: { abandonAfterMs: 0 } }); });
  afterAll(async () => { await ctx.close(); });

  it('re-broadcasts the stored signed transaction instead of signing another', async () => {
    const { workspaceId } = await ctx.workspace();
    await appendDay(ctx.pool, workspaceId, '2026-04-01', 12);
    const signer = ctx.chain!.account!.address;
    const before = await sentTransactions(ctx.chain!.client, signer);
    const { runId } = await prepareAnchorRun(ctx.pool, ctx.chain!, '2026-04-01');
    const deps = { pool: ctx.pool, chain: crashingOnFirstBroadcast(ctx.chain!), log: silentLogger };
    await expect(sendAnchorTransaction(deps, runId!)).rejects.toThrow('simulated crash after signing');
    const stored = await findRun(ctx.pool, runId!);
    expect(stored).toMatchObject({ status: 'failed', error: expect.stringContaining('simulated crash after signing'), tx_hash: expect.stringMatching(/^0x/) });

    const result = await ctx.anchorDay('2026-04-01');
    expect(result).toMatchObject({ status: 'confirmed', txHash: stored!.tx_hash });
    expect(await sentTransactions(ctx.chain!.client, signer)).toBe(before + 1);
    expect(await findRun(ctx.pool, runId!)).toMatchObject({ status: 'confirmed', error: null, abandoned_txs: [] });
  });

  it('signs anew only once the stored transaction\'s nonce was used by another transaction', async () => {
    const { workspaceId } = await ctx.workspace();
    await appendDay(ctx.pool, workspaceId, '2026-04-02', 3);
    const account = ctx.chain!.account!;
    const { runId } = await prepareAnchorRun(ctx.pool, ctx.chain!, '2026-04-02');
    await expect(sendAnchorTransaction({ pool: ctx.pool, chain: crashingOnFirstBroadcast(ctx.chain!), log: silentLogger }, runId!)).rejects.toThrow();
    const stranded = (await findRun(ctx.pool, runId!))!;

    // Someone else uses the anchoring key meanwhile, taking the stored transaction's nonce.
    const client = ctx.chain!.client;
    const fees = await client.estimateFeesPerGas();
    const other = await account.signTransaction({ chainId: 31337, type: 'eip1559', to: account.address, value: 1n, nonce: stranded.nonce!, gas: 21_000n, maxFeePerGas: fees.maxFeePerGas * 2n, maxPriorityFeePerGas: fees.maxPriorityFeePerGas });
    await client.waitForTransactionReceipt({ hash: await client.sendRawTransaction({ serializedTransaction: other }) });

    const result = await ctx.anchorDay('2026-04-02');
    expect(result.status).toBe('confirmed');
    expect(result.txHash).not.toBe(stranded.tx_hash);
    const run = (await findRun(ctx.pool, runId!))!;
    expect(run.abandoned_txs).toEqual([expect.objectContaining({ tx_hash: stranded.tx_hash, nonce: stranded.nonce, reason: expect.stringContaining('was used by another transaction') })]);
    // The abandoned transaction was never mined: the root is on chain exactly once.
    await expect(client.getTransactionReceipt({ hash: stranded.tx_hash! })).rejects.toThrow();
    expect(run.nonce).toBe(stranded.nonce! + 1);
  });
});

describe('a chain that is down, then back', () => {
  let dir: string;
  let port: number;
  let node: LocalEvmNode;
  let ctx: TestContext;
  const startNode = async () => {
    node = await startLocalEvmNode({ port, logFile: join(dir, 'evm.log'), pidFile: join(dir, 'evm.pid'), stateDir: join(dir, 'evm') });
  };
  const fund = async () => {
    await ctx.chain!.client.request({ method: 'hardhat_setBalance' as never, params: [ctx.chain!.account!.address, '0x3635c9adc5dea00000'] as never });
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sealtrail-evm-'));
    port = await freePort();
    await startNode();
    ctx = await createTestContext({ anchoring: { rpcUrl: `http://127.0.0.1:${port}` } });
  }, 60_000);
  afterAll(async () => {
    await ctx.close();
    await node.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the anchor failed with the reason while the node is down, then confirms it with exactly one transaction', async () => {
    const { workspaceId, key } = await ctx.workspace(['read']);
    await appendDay(ctx.pool, workspaceId, '2026-04-10', 50);
    await node.stop();
    const handle = await ctx.temporal.workflow.start(ANCHOR_DAY_WORKFLOW, {
      taskQueue: ctx.taskQueue, workflowId: anchorDayWorkflowId(ctx.taskQueue, '2026-04-10'), args: [{ day: '2026-04-10' }],
    });
    const failed = await eventually(async () => {
      const { data } = (await ctx.api(key, '/api/v1/anchors')).body;
      return data[0]?.status === 'failed' ? data[0] : undefined;
    }, 30_000, 'the anchor to record the failed attempt');
    expect(failed.error).toMatch(/HTTP request failed|fetch failed|ECONNREFUSED/);
    expect(failed.tx_hash).toBeNull();

    await startNode();
    await fund();
    const result = await handle.result() as AnchorDayResult;
    expect(result.status).toBe('confirmed');
    expect(await sentTransactions(ctx.chain!.client, ctx.chain!.account!.address)).toBe(1);
    const [anchor] = (await ctx.api(key, '/api/v1/anchors')).body.data;
    expect(anchor).toMatchObject({ status: 'confirmed', error: null, tx_hash: result.txHash });
    expect((await ctx.api(key, `/api/v1/anchors/${anchor.id}/verify`)).body.data.onchain_valid).toBe(true);
  }, 90_000);

  it('says plainly that a restarted local chain no longer holds anchors sent before the restart', async () => {
    const { rows: [row] } = await ctx.pool.query<{ id: string; workspace_id: string }>('SELECT id, workspace_id FROM anchors ORDER BY created_at DESC LIMIT 1');
    await node.stop();
    await startNode();
    const res = await fetch(`${ctx.apiUrl}/api/v1/public/anchors/${row!.id}/verify`);
    const { data } = await res.json() as { data: { valid: boolean; onchain_valid: boolean; problems: Array<{ code: string; message: string }> } };
    expect(data.valid).toBe(true);
    expect(data.onchain_valid).toBe(false);
    expect(data.problems.map((p) => p.code)).toEqual(['tx_not_found', 'chain_reset']);
    expect(data.problems[1]!.message).toContain('keeps its blocks in memory only');
  }, 60_000);
});
