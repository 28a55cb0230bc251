/**
 * A realistic million-event data set for the query benchmark, seeded straight into `events`
 * (the API and worker would take far too long): many workspaces of Zipf-like sizes, each with
 * tenants, actors and interleaved sessions. Rows interleave across workspaces and sessions in time
 * order, as production traffic does, so one workspace's events are scattered over the heap the
 * way they would be. Hashes are random 32-byte values linked as a chain (each event's
 * previous_event_hash is the previous event's hash): queries never check them, and computing real
 * ones would only slow the seeding.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { formatTimestamp } from '../core/mod.ts';
import { EVENT_ROW_COLUMNS, INSERT_EVENT_ROWS } from '../store/mod.ts';
import { prng } from './events.ts';
export interface SeedOptions {
  /** Events in all. */
  events: number;
  /** Workspace ids; the first gets the most events (sizes fall off as 1/rank). */
  workspaceIds: string[];
  /** First created_at; events are spread evenly from here to `endMicros`. */
  startMicros: bigint;
  endMicros: bigint;
  seed?: number;
  onProgress?: (done: number) => void;
}

/** Values the benchmark queries with, sampled from the largest workspace while seeding. */
export interface SeedSample {
  workspaceId: string;
  workspaceEvents: number;
  sessions: string[];
  actors: string[];
  tenants: string[];
  resourceIds: string[];
  targetIds: string[];
  /** A rare resource name (one document's). */
  resourceNames: string[];
}


const FIRST = ['Sarah', 'Lisa', 'Omar', 'Mei', 'Lukas', 'Priya', 'Diego', 'Aisha', 'Tom', 'Yuki', 'Elena', 'Kwame', 'Noah', 'Fatima', 'Liam', 'Sofia', 'Ivan', 'Chloe', 'Ravi', 'Hana', 'Marco', 'Zoe', 'Ahmed', 'Nina', 'Jonas', 'Ines', 'Kai', 'Lea', 'Felix', 'Amara'];
const LAST = ['Chen', 'Wang', 'Haddad', 'Tanaka', 'Schmidt', 'Patel', 'Garcia', 'Okafor', 'Smith', 'Sato', 'Rossi', 'Mensah', 'Brown', 'Khan', 'Murphy', 'Silva', 'Petrov', 'Martin', 'Iyer', 'Kim', 'Bianchi', 'Dubois', 'Hassan', 'Novak', 'Berg', 'Costa', 'Larsen', 'Weber', 'Fischer', 'Diallo'];

/** The people the seed names actors after (what a support engineer would search for). */
export const PERSON_NAMES = FIRST.map((first, i) => `${first} ${LAST[(i * 7) % LAST.length]}`);
const DOC_WORDS = ['Budget', 'Financial', 'Roadmap', 'Contract', 'Proposal', 'Design', 'Spec', 'Minutes', 'Plan', 'Forecast', 'Invoice', 'Onboarding', 'Security', 'Audit', 'Hiring', 'Pricing', 'Strategy', 'Retro', 'Launch', 'Research'];
const DOC_KINDS = ['Report', 'Draft', 'Summary', 'Notes', 'Review', 'Deck', 'Sheet', 'Memo'];
const FOLDERS = ['Reports', 'Archive', 'Finance Team', 'Shared', 'Legal', 'Design', 'Engineering', 'Sales', 'HR', 'Drafts'];
const PLACES: Array<[string, string, string]> = [['US', 'San Francisco', '104.28'], ['US', 'Portland', '73.240'], ['US', 'New York', '38.140'], ['GB', 'London', '81.2'], ['DE', 'Berlin', '85.214'], ['FR', 'Paris', '90.84'], ['JP', 'Tokyo', '126.0'], ['IN', 'Bengaluru', '49.207'], ['BR', 'São Paulo', '177.12'], ['NG', 'Lagos', '102.89']];
const AGENTS = ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36', 'Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0', 'sealtrail-sdk-python/1.4.0'];

interface ActionSpec { action: string; category: string; resource: string; weight: number; targets?: 'folder' | 'folders' | 'user' | 'project' }
const ACTIONS: ActionSpec[] = [
  { action: 'document.viewed', category: 'documents', resource: 'document', weight: 30 },
  { action: 'document.edited', category: 'documents', resource: 'document', weight: 12 },
  { action: 'document.created', category: 'documents', resource: 'document', weight: 5, targets: 'folder' },
  { action: 'document.uploaded', category: 'documents', resource: 'document', weight: 4, targets: 'folder' },
  { action: 'document.downloaded', category: 'documents', resource: 'document', weight: 6 },
  { action: 'document.shared', category: 'documents', resource: 'document', weight: 3, targets: 'user' },
  { action: 'document.moved', category: 'documents', resource: 'document', weight: 2, targets: 'folders' },
  { action: 'document.moved_to_trash', category: 'documents', resource: 'document', weight: 1, targets: 'folder' },
  { action: 'document.restored', category: 'documents', resource: 'document', weight: 0.3, targets: 'folder' },
  { action: 'trash.emptied', category: 'documents', resource: 'trash', weight: 0.3 },
  { action: 'folder.created', category: 'documents', resource: 'folder', weight: 1 },
  { action: 'folder.renamed', category: 'documents', resource: 'folder', weight: 0.5 },
  { action: 'comment.created', category: 'collaboration', resource: 'comment', weight: 6 },
  { action: 'comment.deleted', category: 'collaboration', resource: 'comment', weight: 0.5 },
  { action: 'project.created', category: 'projects', resource: 'project', weight: 0.5 },
  { action: 'project.member_added', category: 'projects', resource: 'project', weight: 1, targets: 'user' },
  { action: 'project.archived', category: 'projects', resource: 'project', weight: 0.3 },
  { action: 'invoice.created', category: 'billing', resource: 'invoice', weight: 2 },
  { action: 'invoice.sent', category: 'billing', resource: 'invoice', weight: 1.5 },
  { action: 'invoice.paid', category: 'billing', resource: 'invoice', weight: 1.5 },
  { action: 'invoice.voided', category: 'billing', resource: 'invoice', weight: 0.2 },
  { action: 'settings.updated', category: 'settings', resource: 'workspace_settings', weight: 0.8 },
  { action: 'api_key.created', category: 'security', resource: 'api_key', weight: 0.1 },
  { action: 'api_key.revoked', category: 'security', resource: 'api_key', weight: 0.05 },
  { action: 'user.password_changed', category: 'security', resource: 'user', weight: 0.2 },
  { action: 'user.mfa_enabled', category: 'security', resource: 'user', weight: 0.1 },
  { action: 'report.exported', category: 'reports', resource: 'report', weight: 1 },
];
const ACTION_WEIGHT = ACTIONS.reduce((s, a) => s + a.weight, 0);

interface Actor { id: string; name: string; email: string; tenant: string; place: [string, string, string]; agent: string }
interface Session { id: string; actor: Actor; left: number; ip: string; started: boolean }
interface Workspace { id: string; share: number; seq: number; lastHash: Buffer | null; actors: Actor[]; sessions: Session[]; tenants: string[]; docs: number; folders: number; projects: number; sessionCount: number }

const CHUNK = 2000;

/**
 * Writes `options.events` events into `events` and advances each workspace's chain head. Returns
 * query values sampled from the largest workspace.
 */
export async function seedEvents(pool: pg.Pool, options: SeedOptions): Promise<SeedSample> {
  const random = prng(options.seed ?? 42);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  // Skewed pick: low indexes are much more popular (a few tenants/documents get most traffic).
  const skewed = (n: number) => Math.min(n - 1, Math.floor(n * random() ** 2.5));

  const harmonic = options.workspaceIds.reduce((s, _, i) => s + 1 / (i + 1), 0);
  const workspaces: Workspace[] = options.workspaceIds.map((id, i) => {
    const size = options.events / (i + 1) / harmonic;
    const tenantCount = Math.max(3, Math.round(size / 400));
    const tenants = Array.from({ length: tenantCount }, (_, t) => `org_${i}_${t.toString(36)}`);
    const actors = Array.from({ length: Math.max(5, Math.round(size / 40)) }, (_, a): Actor => {
      const first = pick(FIRST); const last = pick(LAST);
      return { id: `user_${i}_${a.toString(36)}`, name: `${first} ${last}`, email: `${first}.${last}${a}@example.com`.toLowerCase(),
        tenant: tenants[skewed(tenantCount)]!, place: pick(PLACES), agent: pick(AGENTS) };
    });
    return { id, share: 1 / (i + 1) / harmonic, seq: 0, lastHash: null, actors, sessions: [], tenants,
      docs: Math.max(10, Math.round(size / 8)), folders: Math.max(5, Math.round(size / 500)), projects: Math.max(3, Math.round(size / 2000)), sessionCount: 0 };
  });
  const cumulative: number[] = [];
  workspaces.reduce((s, w) => { cumulative.push(s + w.share); return s + w.share; }, 0);
  const pickWorkspace = () => { const r = random(); let lo = 0; let hi = cumulative.length - 1; while (lo < hi) { const mid = (lo + hi) >> 1; if (cumulative[mid]! < r) lo = mid + 1; else hi = mid; } return workspaces[lo]!; };

  const big = workspaces[0]!;
  const sample: SeedSample = { workspaceId: big.id, workspaceEvents: 0, sessions: [], actors: [], tenants: [], resourceIds: [], targetIds: [], resourceNames: [] };
  const docName = (ws: number, d: number) => `${DOC_WORDS[(d * 7 + ws) % DOC_WORDS.length]} ${DOC_KINDS[(d * 3) % DOC_KINDS.length]} ${d}.pdf`;

  const pickAction = () => { let r = random() * ACTION_WEIGHT; for (const a of ACTIONS) { r -= a.weight; if (r <= 0) return a; } return ACTIONS[0]!; };
  const step = (options.endMicros - options.startMicros) / BigInt(options.events);
  const columns: unknown[][] = EVENT_ROW_COLUMNS.map(() => []);
  const batchId = crypto.randomUUID();
  let pending = 0;
  let inFlight: Promise<unknown>[] = [];
  const flush = async () => {
    if (pending === 0) return;
    const values = columns.map((c) => c.splice(0));
    pending = 0;
    inFlight.push(pool.query(INSERT_EVENT_ROWS, values));
    if (inFlight.length >= 2) { await Promise.all(inFlight); inFlight = []; }
  };

  for (let n = 0; n < options.events; n++) {
    const w = pickWorkspace();
    const wi = workspaces.indexOf(w);
    // A few sessions run at once in each workspace, more in bigger ones.
    const concurrent = Math.max(1, Math.round(w.share * 400));
    let session = w.sessions.length < concurrent ? undefined : w.sessions[int(w.sessions.length)];
    if (!session) {
      const actor = w.actors[skewed(w.actors.length)]!;
      session = { id: `sess_${wi}_${(w.sessionCount++).toString(36)}`, actor, left: 3 + int(60), ip: `${actor.place[2]}.${int(256)}.${1 + int(254)}`, started: false };
      w.sessions.push(session);
    }
    const actor = session.actor;
    const spec: ActionSpec = session.started ? pickAction() : { action: 'user.login', category: 'auth', resource: 'user', weight: 0 };
    session.started = true;
    if (--session.left <= 0) w.sessions.splice(w.sessions.indexOf(session), 1);

    let resourceId: string; let resourceName: string | null; let metadata: Record<string, unknown>;
    const doc = skewed(w.docs);
    switch (spec.resource) {
      case 'document': resourceId = `doc_${wi}_${doc.toString(36)}`; resourceName = docName(wi, doc);
        metadata = { folder: FOLDERS[doc % FOLDERS.length]!.toLowerCase(), file_size: 1000 + ((doc * 7919) % 5_000_000), mime_type: 'application/pdf',
          ...(spec.action === 'document.shared' ? { shared_with: pick(w.actors).email, permission: pick(['view', 'comment', 'edit']) } : {}),
          ...(spec.action === 'document.edited' ? { changes: { words_added: int(400), words_removed: int(100) } } : {}) };
        break;
      case 'user': resourceId = actor.id; resourceName = actor.name;
        metadata = spec.action === 'user.login' ? { method: pick(['password', 'sso', 'magic_link']), mfa: random() < 0.6, email: actor.email } : { email: actor.email };
        break;
      case 'invoice': { const inv = skewed(w.docs); resourceId = `inv_${wi}_${inv.toString(36)}`; resourceName = `INV-2026-${String(inv).padStart(6, '0')}`;
        metadata = { amount_cents: 500 + ((inv * 104729) % 500_000), currency: pick(['USD', 'EUR', 'GBP']), customer: `cus_${(inv * 31) % 9973}` }; break; }
      case 'folder': { const f = skewed(w.folders); resourceId = `folder_${wi}_${f.toString(36)}`; resourceName = FOLDERS[f % FOLDERS.length]!; metadata = { parent: 'root' }; break; }
      case 'project': { const p = skewed(w.projects); resourceId = `proj_${wi}_${p.toString(36)}`; resourceName = `${pick(DOC_WORDS)} project ${p}`; metadata = { visibility: pick(['private', 'team', 'public']) }; break; }
      case 'comment': resourceId = `cmt_${wi}_${n.toString(36)}`; resourceName = null; metadata = { document_id: `doc_${wi}_${doc.toString(36)}`, length: 20 + int(600) }; break;
      default: resourceId = `${spec.resource}_${wi}_${int(50).toString(36)}`; resourceName = null; metadata = { source: pick(['dashboard', 'api', 'cli']) };
    }
    const folderTarget = (f: number) => ({ type: 'folder', id: `folder_${wi}_${f.toString(36)}`, name: FOLDERS[f % FOLDERS.length]! });
    const targets = spec.targets === 'folder' ? [folderTarget(skewed(w.folders))]
      : spec.targets === 'folders' ? [folderTarget(skewed(w.folders)), folderTarget(skewed(w.folders))]
      : spec.targets === 'user' ? [(() => { const u = pick(w.actors); return { type: 'user', id: u.id, name: u.name }; })()]
      : [];

    const createdAt = options.startMicros + step * BigInt(n);
    const hash = randomBytes(32);
    w.seq += 1;
    const row = [
      w.id, w.seq, crypto.randomUUID(), batchId,
      actor.id, actor.name, 'user', spec.action, spec.category,
      spec.resource, resourceId, resourceName, JSON.stringify(metadata), JSON.stringify(targets),
      actor.tenant, session.id, null, null,
      session.ip, actor.place[0], actor.place[1], actor.agent,
      formatTimestamp(createdAt - BigInt(int(2_000_000))), formatTimestamp(createdAt), hash, w.lastHash,
    ];
    w.lastHash = hash;
    row.forEach((value, c) => columns[c]!.push(value));
    if (w === big) {
      // Keep a spread of real values to query with (every 997th event of the largest workspace).
      if (w.seq % 997 === 0) {
        sample.sessions.push(session.id); sample.actors.push(actor.id); sample.tenants.push(actor.tenant); sample.resourceIds.push(resourceId);
        if (spec.resource === 'document' && resourceName) sample.resourceNames.push(resourceName.replace(/\.pdf$/, ''));
      }
      if (targets.length > 0 && w.seq % 199 === 0) sample.targetIds.push(targets[0]!.id);
    }
    if (++pending === CHUNK) { await flush(); options.onProgress?.(n + 1); }
  }
  await flush();
  await Promise.all(inFlight);
  for (const w of workspaces) {
    await pool.query('UPDATE chain_heads SET seq = $2, event_hash = $3, created_at = (SELECT created_at FROM events WHERE workspace_id = $1 AND seq = $2) WHERE workspace_id = $1',
      [w.id, w.seq, w.lastHash]);
  }
  sample.workspaceEvents = big.seq;
  return sample;
}

