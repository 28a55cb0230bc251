/** A verifier worker (cli/verify-bundle-worker.ts) that exits before taking any slice. */
process.exit(3);
