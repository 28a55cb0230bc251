import type { Config } from '../config/mod.ts';
import { embeddedDatabaseUrl, readLocalInfo } from '../stack/mod.ts';
import { createApiKey, createPool, createWorkspace, findWorkspace, listApiKeys, listWorkspaces, PERMISSIONS, revokeApiKey, type Permission, type Pool } from '../store/mod.ts';

import { CliError } from './errors.ts';

interface Flags { json?: boolean; workspace?: string; name?: string; permissions?: string }

async function withPool<T>(config: Config, work: (pool: Pool) => Promise<T>): Promise<T> {
  const url = config.database.url ?? embeddedDatabaseUrl(config);
  if (!url) throw new CliError('no database: set DATABASE_URL, or run `npm start` first to use the embedded PostgreSQL.');
  const pool = createPool(url, { max: 1, applicationName: 'sealtrail-cli' });
  try {
    await pool.query('SELECT 1').catch((error: Error) => {
      throw new CliError(`cannot reach the database (${error.message}); is \`npm start\` running, or DATABASE_URL right?`);
    });
    return await work(pool);
  } finally { await pool.end(); }
}

async function workspaceOf(pool: Pool, flags: Flags, config: Config): Promise<string> {
  const id = flags.workspace ?? readLocalInfo(config.dataDir)?.workspace_id;
  if (!id) throw new CliError('no workspace given: pass --workspace ID');
  if (!/^[0-9a-f-]{36}$/i.test(id) || !await findWorkspace(pool, id)) throw new CliError(`workspace ${id} does not exist`);
  return id;
}

function print(json: boolean | undefined, value: unknown, text: string): void {
  console.log(json ? JSON.stringify(value, null, 2) : text);
}

export async function runWorkspaceCommand(args: string[], flags: Flags, config: Config): Promise<number> {
  const [action, name] = args;
  return await withPool(config, async (pool) => {
    if (action === 'create') {
      if (!name?.trim()) throw new CliError('usage: sealtrail workspace create <name>');
      const ws = await createWorkspace(pool, name.trim());
      print(flags.json, { workspace_id: ws.id, name: ws.name, created_at: ws.created_at }, `created workspace ${ws.id} (${ws.name})`);
      return 0;
    }
    if (action === 'list') {
      const all = await listWorkspaces(pool);
      print(flags.json, all.map((w) => ({ workspace_id: w.id, name: w.name, created_at: w.created_at })),
        all.map((w) => `${w.id}  ${w.created_at}  ${w.name}`).join('\n') || '(no workspaces)');
      return 0;
    }
    throw new CliError(`unknown workspace action '${action ?? ''}' (create, list)`);
  });
}

function parsePermissions(text: string | undefined): Permission[] {
  const list = (text ?? 'ingest,read').split(',').map((p) => p.trim()).filter(Boolean);
  const unknown = list.filter((p) => !(PERMISSIONS as readonly string[]).includes(p));
  if (list.length === 0 || unknown.length > 0) throw new CliError(`--permissions takes a list of ${PERMISSIONS.join(', ')}; got '${text}'`);
  return list as Permission[];
}

export async function runKeysCommand(args: string[], flags: Flags, config: Config): Promise<number> {
  const [action, keyId] = args;
  if (!['create', 'list', 'revoke'].includes(action ?? '')) throw new CliError(`unknown keys action '${action ?? ''}' (create, list, revoke)`);
  const permissions = action === 'create' ? parsePermissions(flags.permissions) : [];
  return await withPool(config, async (pool) => {
    const workspaceId = await workspaceOf(pool, flags, config);
    if (action === 'create') {
      const created = await createApiKey(pool, { workspaceId, name: flags.name ?? 'unnamed', permissions });
      print(flags.json, { workspace_id: workspaceId, key_id: created.id, key: created.key },
        `created key ${created.id} (${created.permissions.join(', ')})\n\n  ${created.key}\n\nThis is the only time the key is shown; store it now.`);
      return 0;
    }
    if (action === 'list') {
      const keys = await listApiKeys(pool, workspaceId);
      const rows = keys.map((k) => ({ key_id: k.id, prefix: k.prefix, name: k.name, permissions: k.permissions, created_at: k.created_at, last_used_at: k.last_used_at, revoked_at: k.revoked_at }));
      print(flags.json, rows, rows.map((k) => `${k.key_id}  ${k.prefix}…  ${k.permissions.join(',').padEnd(18)} created ${k.created_at}  last used ${k.last_used_at ?? 'never'}${k.revoked_at ? `  REVOKED ${k.revoked_at}` : ''}  ${k.name}`).join('\n') || '(no keys)');
      return 0;
    }
    if (!keyId) throw new CliError('usage: sealtrail keys revoke <key-id>');
    if (!/^[0-9a-f-]{36}$/i.test(keyId) || !await revokeApiKey(pool, workspaceId, keyId)) throw new CliError(`key ${keyId} does not exist in workspace ${workspaceId}`);
    print(flags.json, { key_id: keyId, revoked: true }, `revoked key ${keyId}`);
    return 0;
  });
}
