/**
 * The EVM chain the anchors go to, through viem: reading what a chain says about a
 * transaction (API, CLI, worker) and, in the worker only, the signing account.
 */
import {
  createPublicClient, http, keccak256, TransactionNotFoundError, TransactionReceiptNotFoundError,
  type Hex, type PublicClient,
} from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { ConfigError, type AnchorChainName, type Config } from '../../config/mod.ts';
import type { ObservedAnchorTransaction } from '../../core/mod.ts';

/** A chain as the anchoring code sees it. */
export interface AnchorChain {
  name: AnchorChainName;
  /** The id the configuration expects; every RPC answer is checked against it. */
  chainId: number;
  rpcUrl: string;
  confirmations: number;
  explorerUrl?: string;
  client: PublicClient;
  /** Only where transactions are signed (the worker). */
  account?: PrivateKeyAccount;
}

export interface AnchorChainOptions {
  rpcUrl: string;
  name: AnchorChainName;
  chainId: number;
  confirmations: number;
  explorerUrl?: string;
  privateKey?: Hex;
  /** Per-request timeout; short, so a dead node fails an attempt fast and the retry says why. */
  timeoutMs?: number;
}

/**
 * Connects lazily (nothing is sent until the first call), so a chain that is down at start
 * only fails the anchoring attempts, each of which records why.
 *
 * ```ts
 * const chain = openAnchorChain({ rpcUrl: 'http://127.0.0.1:8545', name: 'local', chainId: 31337, confirmations: 1, privateKey });
 * ```
 */
export function openAnchorChain(o: AnchorChainOptions): AnchorChain {
  const client = createPublicClient({ transport: http(o.rpcUrl, { timeout: o.timeoutMs ?? 10_000, retryCount: 0 }) }) as PublicClient;
  return {
    name: o.name, chainId: o.chainId, rpcUrl: o.rpcUrl, confirmations: o.confirmations, explorerUrl: o.explorerUrl, client,
    account: o.privateKey ? privateKeyToAccount(o.privateKey) : undefined,
  };
}

/**
 * Account #0 of Hardhat's well-known development mnemonic, funded on every local node. It is
 * public, so it is the default signer only for ANCHOR_CHAIN=local.
 */
export const LOCAL_DEV_PRIVATE_KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

/**
 * The configured chain, or undefined when no RPC URL is set (anchoring off). With `signer`,
 * the key is required off the local chain; without it, the key is never even read.
 */
export function anchorChainFromConfig(anchor: Config['anchor'], signer: boolean): AnchorChain | undefined {
  if (!anchor.rpcUrl) return undefined;
  let privateKey: Hex | undefined;
  if (signer) {
    privateKey = anchor.privateKey ?? (anchor.chain === 'local' ? LOCAL_DEV_PRIVATE_KEY : undefined);
    if (!privateKey) throw new ConfigError(`missing configuration: ANCHOR_PRIVATE_KEY must be set when ANCHOR_CHAIN=${anchor.chain}`);
  }
  return openAnchorChain({
    rpcUrl: anchor.rpcUrl, name: anchor.chain, chainId: anchor.chainId, confirmations: anchor.confirmations,
    explorerUrl: anchor.explorerUrl, privateKey,
  });
}

/** The hash of a signed raw transaction (what the chain will call it). */
export function rawTransactionHash(raw: Hex): Hex {
  return keccak256(raw);
}

/** Reads a transaction, its receipt and the chain's height, for checkAnchorTransaction. */
export async function readAnchorTransaction(client: PublicClient, txHash: Hex): Promise<ObservedAnchorTransaction> {
  const [chainId, tx, receipt, latest] = await Promise.all([
    client.getChainId(),
    client.getTransaction({ hash: txHash }).catch((e: unknown) => { if (e instanceof TransactionNotFoundError) return null; throw e; }),
    client.getTransactionReceipt({ hash: txHash }).catch((e: unknown) => { if (e instanceof TransactionReceiptNotFoundError) return null; throw e; }),
    client.getBlockNumber({ cacheTime: 0 }),
  ]);
  return {
    chainId,
    transaction: tx ? { hash: tx.hash, from: tx.from, input: tx.input, blockNumber: tx.blockNumber === null ? null : Number(tx.blockNumber) } : null,
    receipt: receipt ? { status: receipt.status, blockNumber: Number(receipt.blockNumber) } : null,
    latestBlock: Number(latest),
  };
}

/** Hash of block 0: it changes when a development chain is restarted from scratch. */
export async function genesisHash(client: PublicClient): Promise<Hex> {
  const block = await client.getBlock({ blockNumber: 0n });
  return block.hash;
}

/** A short, secret-free description of an RPC failure for logs and the anchor's error. */
export function describeChainError(error: unknown, rpcUrl: string): string {
  const e = error as { shortMessage?: string; message?: string; name?: string };
  const text = (e.shortMessage ?? e.message ?? String(error)).split('\n')[0]!;
  // An RPC URL may carry a provider API key in its path or query: show only its origin.
  let origin = rpcUrl;
  try { origin = new URL(rpcUrl).origin; } catch { /* keep as is */ }
  return `${text} (RPC ${origin})`;
}
