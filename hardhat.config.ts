/**
 * Hardhat 3 configuration for the local development chain that `npm start` (stack/evm.ts) and
 * the tests run with `hardhat node`. Sealtrail compiles no contracts: anchors are plain
 * calldata transactions. Blocks are mined on every transaction and once a second, so waiting
 * for confirmations behaves as on a real chain instead of stalling on an idle node.
 */
import { defineConfig } from 'hardhat/config';

// Hardhat writes build-info folders even with nothing to compile: keep them out of the tree.
const dir = process.env.SEALTRAIL_EVM_DIR ?? '.sealtrail/evm';

export default defineConfig({
  paths: { artifacts: `${dir}/artifacts`, cache: `${dir}/cache` },
  networks: {
    node: {
      type: 'edr-simulated',
      chainType: 'l1',
      chainId: 31337,
      mining: { auto: true, interval: 1000 },
    },
  },
});
