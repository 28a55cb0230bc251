// Runs before `npm start` and `npm test` with whatever Node npm uses (possibly an old one), so
// plain JavaScript: installs the dependencies when they are missing or older than package.json.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..');
const marker = join(root, 'node_modules', '.package-lock.json');
const ownNode = join(root, 'node_modules', 'node', 'bin', 'node');
const stale = !existsSync(marker) || !existsSync(ownNode)
  || statSync(join(root, 'package.json')).mtimeMs > statSync(marker).mtimeMs;

if (stale) {
  console.error('sealtrail: installing dependencies (npm install)…');
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('sealtrail: npm install failed; see the output above.');
    process.exit(result.status ?? 1);
  }
}
