#!/usr/bin/env node
// `npx sealtrail`: runs cli/main.ts on a Node that strips TypeScript types (>= 22.18), preferring
// the project's own Node (the `node` package) when the one on PATH is older.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
const modern = major > 22 || (major === 22 && minor >= 18);
const local = join(root, 'node_modules', 'node', 'bin', 'node');
const node = modern ? process.execPath : existsSync(local) ? local : process.execPath;
const result = spawnSync(node, [join(root, 'cli', 'main.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(result.status ?? 1);
