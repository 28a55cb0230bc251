import type pg from 'pg';
import { inTransaction } from './pool.ts';

export interface Workspace { id: string; name: string; created_at: string }

/**
 * Creates a workspace and the empty head of its hash chain, in one transaction.
 *
 * ```ts
 * const ws = await createWorkspace(pool, 'Acme production');
 * ```
 */
export async function createWorkspace(pool: pg.Pool, name: string): Promise<Workspace> {
  return await inTransaction(pool, async (client) => {
    const { rows } = await client.query<Workspace>(
      'INSERT INTO workspaces (id, name) VALUES ($1, $2) RETURNING id, name, created_at',
      [crypto.randomUUID(), name],
    );
    const workspace = rows[0]!;
    await client.query('INSERT INTO chain_heads (workspace_id) VALUES ($1)', [workspace.id]);
    return workspace;
  });
}

export async function findWorkspace(pool: pg.Pool, id: string): Promise<Workspace | undefined> {
  const { rows } = await pool.query<Workspace>('SELECT id, name, created_at FROM workspaces WHERE id = $1', [id]);
  return rows[0];
}

export async function listWorkspaces(pool: pg.Pool): Promise<Workspace[]> {
  const { rows } = await pool.query<Workspace>('SELECT id, name, created_at FROM workspaces ORDER BY created_at');
  return rows;
}
