import { rmSync } from 'node:fs';
import { readRuntime } from './runtime.ts';

export default async function globalTeardown(): Promise<void> {
  const stop = (globalThis as Record<string, unknown>).__sealtrailStop as (() => Promise<void>) | undefined;
  await stop?.();
  if (!process.env.SEALTRAIL_KEEP_TEST_RUNTIME) rmSync(readRuntime().dir, { recursive: true, force: true });
}
