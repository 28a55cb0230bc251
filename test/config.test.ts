import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { ConfigError, loadConfig } from '../config/mod.ts';
import { PROJECT_ROOT } from './support/runtime.ts';

describe('configuration', () => {
  it('has a default for everything a local start needs', () => {
    const config = loadConfig({});
    expect(config.api).toEqual({ host: '127.0.0.1', port: 3000 });
    expect(config.database.url).toBeUndefined();
    expect(config.temporal).toMatchObject({ namespace: 'default', taskQueue: 'sealtrail', devPort: 7233, uiPort: 8233 });
  });

  it.each([
    ['API_PORT', 'eighty'], ['API_PORT', '70000'], ['DATABASE_URL', 'mysql://x'], ['LOG_LEVEL', 'loud'],
    ['INGEST_GROUP_COMMIT_MS', '-1'], ['EMBEDDED_PG_PORT', '0'],
  ])('stops start-up naming %s when it is %s', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrow(new RegExp(`^invalid configuration: ${variable}=`));
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', API_PORT: '' }).api.port).toBe(3000);
  });

  it('documents every variable it reads in docs/configuration.md', () => {
    const doc = readFileSync(join(PROJECT_ROOT, 'docs', 'configuration.md'), 'utf8');
    const source = readFileSync(join(PROJECT_ROOT, 'config', 'mod.ts'), 'utf8');
    const variables = [...source.matchAll(/^\s+([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
    expect(variables.length).toBeGreaterThan(10);
    for (const variable of variables) expect(doc).toContain(`\`${variable}\``);
  });
});

describe('temporal-compose.yml', () => {
  it('is valid YAML describing Temporal on PostgreSQL, its UI, PostgreSQL, S3, the API and the worker', () => {
    const compose = parse(readFileSync(join(PROJECT_ROOT, 'temporal-compose.yml'), 'utf8'), { merge: true });
    expect(Object.keys(compose.services).sort()).toEqual(['api', 'postgres', 's3', 'temporal', 'temporal-db', 'temporal-ui', 'worker']);
    expect(compose.services.temporal.environment.DB).toBe('postgres12');
    expect(compose.services.api.environment.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(compose.services.worker.command).toEqual(['node', 'cli/main.ts', 'worker']);
    expect(compose.services.api.environment.DATABASE_URL).toMatch(/^postgres:\/\/.*@postgres:5432\/sealtrail$/);
  });
});
