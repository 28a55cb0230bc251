import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from '@jest/globals';
import { PROJECT_ROOT } from './support/runtime.ts';

const dir = mkdtempSync(join(tmpdir(), 'sealtrail-bundle-'));
/** A file: a folder can't be made under it. */
const files0 = () => readdirSync(dir)[0]!;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Asks a real Node process (webpack does not run inside jest's module sandbox) for the bundle. */
async function bundleIn(cacheDir: string): Promise<{ codePath?: string; codeLength?: number }> {
  const script = `import { cachedWorkflowBundle } from ${JSON.stringify(join(PROJECT_ROOT, 'worker', 'mod.ts'))};
    const b = await cachedWorkflowBundle(${JSON.stringify(cacheDir)});
    console.log(JSON.stringify('code' in b ? { codeLength: b.code.length } : b));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('the workflow bundle cache', () => {
  it('bundles once, then a restart reuses the cached bundle of the same sources', async () => {
    const first = await bundleIn(dir);
    expect(first.codeLength).toBeGreaterThan(1000);
    const files = readdirSync(dir);
    expect(files).toEqual([expect.stringMatching(/^workflow-bundle-[0-9a-f]{24}\.js$/)]);
    expect(readFileSync(join(dir, files[0]!), 'utf8')).toHaveLength(first.codeLength!);
    expect(await bundleIn(dir)).toEqual({ codePath: join(dir, files[0]!) });
  }, 60_000);

  it('still bundles when the cache folder cannot be written', async () => {
    expect((await bundleIn(join(dir, files0(), 'cannot-be-a-folder'))).codeLength).toBeGreaterThan(1000);
  }, 60_000);
});
