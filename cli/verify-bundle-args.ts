/** The arguments of `sealtrail verify-bundle`, checked before anything heavy is loaded (see cli/main.ts). */
import { CliError } from './errors.ts';

export interface VerifyArgs {
  file: string;
  rpc: string;
  signer?: string;
  quiet: boolean;
  /** Threads checking event lines, the main one included; undefined: by the file's size. */
  threads?: number;
  minConfirmations: number;
}

const USAGE = 'usage: sealtrail verify-bundle <file> --rpc URL [--signer 0x…] [--min-confirmations N] [--threads N] [--quiet]';

/** Checks the positional arguments and flags of the command; a CliError says what is wrong. */
export function parseVerifyArgs(args: readonly string[], flags: { rpc?: string; signer?: string; quiet?: boolean; threads?: string; 'min-confirmations'?: string }): VerifyArgs {
  const [file] = args;
  if (!file || !flags.rpc) throw new CliError(`${USAGE}\n(the transaction is read from the chain itself: --rpc names any node of that chain you trust)`);
  const count = (text: string | undefined, name: string) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new CliError(`--${name} takes a positive integer; got '${text}'`);
    return n;
  };
  if (flags.signer && !/^0x[0-9a-fA-F]{40}$/.test(flags.signer)) throw new CliError(`--signer takes an address (0x + 40 hex digits); got '${flags.signer}'`);
  return {
    file, rpc: flags.rpc, signer: flags.signer, quiet: flags.quiet ?? false,
    threads: count(flags.threads, 'threads'), minConfirmations: count(flags['min-confirmations'], 'min-confirmations') ?? 1,
  };
}
