import type pg from 'pg';
import { keysStillValid } from './api-keys.ts';
import { EVENT_COLUMNS, eventFromRow, type StoredEvent } from './events.ts';

/** `action` as asked: one exact action, or every action starting with a prefix (`document.*`). */
export type ActionFilter = { exact: string } | { prefix: string };

/**
 * The filters of `GET /api/v1/events`, already validated and normalised (timestamps in the
 * canonical microsecond form). Every given filter must hold (AND).
 */
export interface EventFilter {
  action?: ActionFilter;
  actor_id?: string;
  resource?: string;
  resource_id?: string;
  tenant_id?: string;
  session_id?: string;
  /** With `target_id`, both must hold for the same target. */
  target_type?: string;
  target_id?: string;
  /** Inclusive bounds on `created_at`. */
  from?: string;
  to?: string;
  /** Case-insensitive substring of actor name, action, resource name or metadata, taken literally. */
  search?: string;
}

/**
 * How many events matched, counted through a chain position. The count of matches at or before
 * a position never changes (events are only appended, each after every visible one), so a later
 * page only has to count the matches after it.
 */
export interface MatchCount { total: number; throughSeq: number }

export interface EventPageRequest {
  workspaceId: string;
  filter: EventFilter;
  /** Continue after this chain position (from a cursor); 0 or absent for the first page. */
  afterSeq?: number;
  limit: number;
  /** What an earlier page of the same query counted; absent for the first page. */
  counted?: MatchCount;
  /**
   * An API key's id to check in the same statement as the count, so that a read by a key seen
   * valid before costs no lookup of its own: the page's `keyValid` says whether it is unrevoked.
   */
  keyId?: string;
}

export interface EventPage {
  /** In chain order (seq, which is also created_at order). */
  events: StoredEvent[];
  hasMore: boolean;
  /** Every event matching the filter, whatever page this is, and through where it was counted. */
  count: MatchCount;
  /** Whether the request's `keyId` was unrevoked when counted; undefined when none was given. */
  keyValid?: boolean;
}

/** A parameterised statement: values only ever travel as parameters. */
export interface Statement { text: string; values: unknown[] }

// Equality filters, by column. The names are fixed here; only the values come from the caller.
const EQUALITY_COLUMNS = ['actor_id', 'resource', 'resource_id', 'tenant_id', 'session_id'] as const;

/** Escapes LIKE's wildcards and its escape character, so the text matches only itself. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

class ParameterList {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** The parts of a query's WHERE clause, see conditions(). */
interface Conditions {
  /** The workspace's parameter. */
  ws: string;
  /** Conditions on `events`, targets and search included. */
  where: string[];
  /** Conditions on `event_targets` when target_type or target_id is given: one row, one target. */
  targets?: string[];
  /** Conditions on `event_search` when search is given: one part of one event's text. */
  search?: string[];
  /** The search term's parameter. */
  term?: string;
  /** The chain-position range of from/to, on `seq` (of events, event_targets or event_search alike). */
  range: string[];
  /** Which table alone answers the filter, when nothing but its rows and from/to filter the events. */
  only?: 'targets' | 'search';
}

/**
 * The WHERE conditions for `filter` within one workspace.
 *
 * `from`/`to` are turned into chain positions (seq) by one lookup each on the created_at index:
 * chain order and created_at order agree, so the time range is a seq range, and every filter's
 * (workspace_id, column, seq) index can then serve filter, range, order and cursor at once. When
 * no event lies in the range the lookup yields NULL, and `seq >= NULL` matches nothing, as it should.
 *
 * Targets are looked up in `event_targets` (migrations/004_target_rows_and_counts.sql), one row
 * per distinct target of an event: type and id on one row, so given together they must match the
 * same target. A search is looked up in `event_search` (migrations/007_search_rows.sql): the
 * lowercased text of each event, in parts that each hold any match of a search whole, so an event
 * matches when one of its parts does. Its index is scanned in chain order for the workspace (and
 * time range) only, testing each part: a few microseconds for a common term, a pass over the
 * workspace's parts for a rare one, never more.
 */
function conditions(workspaceId: string, filter: EventFilter, p: ParameterList): Conditions {
  const ws = p.add(workspaceId);
  const attributes: string[] = [];
  if (filter.action && 'exact' in filter.action) attributes.push(`action = ${p.add(filter.action.exact)}`);
  else if (filter.action && filter.action.prefix !== '') attributes.push(`action LIKE ${p.add(`${escapeLike(filter.action.prefix)}%`)}`);
  for (const column of EQUALITY_COLUMNS) {
    const value = filter[column];
    if (value !== undefined) attributes.push(`${column} = ${p.add(value)}`);
  }
  const range: string[] = [];
  if (filter.from !== undefined) {
    range.push(`seq >= (SELECT seq FROM events WHERE workspace_id = ${ws} AND created_at >= ${p.add(filter.from)} ORDER BY created_at LIMIT 1)`);
  }
  if (filter.to !== undefined) {
    range.push(`seq <= (SELECT seq FROM events WHERE workspace_id = ${ws} AND created_at <= ${p.add(filter.to)} ORDER BY created_at DESC LIMIT 1)`);
  }
  let targets: string[] | undefined;
  if (filter.target_type !== undefined || filter.target_id !== undefined) {
    targets = [`workspace_id = ${ws}`];
    if (filter.target_type !== undefined) targets.push(`type = ${p.add(filter.target_type)}`);
    if (filter.target_id !== undefined) targets.push(`id = ${p.add(filter.target_id)}`);
  }
  // Lowered in SQL by the function that lowered the stored text (migration 008): JavaScript's
  // lowercasing differs from it outside ASCII. strpos() takes the term literally (no wildcards to
  // escape) and is a third cheaper than LIKE '%…%' on a text that does not hold it.
  const term = filter.search === undefined ? undefined : p.add(filter.search);
  const search = term === undefined ? undefined : [`workspace_id = ${ws}`, holds('text', term)];
  const where = [`workspace_id = ${ws}`, ...attributes,
    ...(targets ? [`seq IN (SELECT seq FROM event_targets WHERE ${[...targets, ...range].join(' AND ')})`] : []),
    ...(search ? [`seq IN (SELECT seq FROM event_search WHERE ${[...search, ...range].join(' AND ')})`] : []),
    ...range];
  const only = attributes.length > 0 ? undefined
    : targets && !search ? 'targets' as const
    : search && !targets ? 'search' as const
    : undefined;
  return { ws, where, targets, search, term, range, only };
}

/** Whether a lowercased search text holds the search term (the parameter `term`). */
function holds(text: string, term: string): string {
  return `strpos(${text}, event_search_lower(${term})) > 0`;
}

/**
 * The statements behind one page: the page itself (one row more than asked, to learn whether more
 * follow) and the count of the matches not counted yet (all of them for a first page, only those
 * after `counted.throughSeq` for a later one, which keeps deep pages as cheap as the first).
 * Exposed so the benchmark runs exactly what the API runs.
 *
 * A search's first page has no count statement: its page statement counts too, and every row it
 * returns carries `total` and `through_seq` (one row with no event when nothing matches). Its count
 * has to read all of the workspace's search rows, and a page of a rarer term most of them, so one
 * pass does both. With a `keyId`, the statement that counts also returns `key_valid`.
 *
 * ```ts
 * const { page, count } = eventPageStatements({ workspaceId, filter: { session_id: 'sess_4kN8pLm' }, limit: 25 });
 * ```
 */
export function eventPageStatements(request: EventPageRequest): { page: Statement; count?: Statement } {
  const forPage = new ParameterList();
  const { ws, where, targets, search, term, range, only } = conditions(request.workspaceId, request.filter, forPage);
  const after = request.afterSeq ? [`seq > ${forPage.add(request.afterSeq)}`] : [];
  const limit = forPage.add(request.limit + 1);
  if (only === 'search' && !request.counted) {
    // Each matching event once: its first matching part (almost every event has only part 0).
    // The aggregate's ORDER BY is the index's order, so nothing is sorted.
    const firstPart = `(part = 0 OR NOT EXISTS (SELECT FROM event_search o
        WHERE o.workspace_id = s.workspace_id AND o.seq = s.seq AND o.part < s.part AND ${holds('o.text', term!)}))`;
    const page = `WITH found AS MATERIALIZED (
        SELECT count(*) AS total, max(seq) AS through_seq, (array_agg(seq ORDER BY seq))[1:${limit}] AS seqs${keyColumn(request, forPage)}
          FROM event_search s WHERE ${[...search!, ...range, ...after, firstPart].join(' AND ')})
      SELECT e.*, found.total, found.through_seq${request.keyId ? ', found.key_valid' : ''} FROM found LEFT JOIN LATERAL (
        SELECT ${EVENT_COLUMNS} FROM events WHERE workspace_id = ${ws} AND seq = ANY(found.seqs)) AS e ON true
      ORDER BY e.seq`;
    return { page: { text: page, values: forPage.values } };
  }
  let page: string;
  if (only) {
    // The page's positions straight from the index of event_targets or event_search, in chain
    // order (an event with two matching targets or parts once), then those events by primary key:
    // as many probes as the page holds.
    const [table, rows] = only === 'targets' ? ['event_targets', targets!] : ['event_search', search!];
    page = `SELECT ${EVENT_COLUMNS} FROM events WHERE workspace_id = ${ws} AND seq = ANY(ARRAY(
        SELECT DISTINCT seq FROM ${table} WHERE ${[...rows, ...range, ...after].join(' AND ')} ORDER BY seq LIMIT ${limit}))
      ORDER BY seq LIMIT ${limit}`;
  } else {
    page = `SELECT ${EVENT_COLUMNS} FROM events WHERE ${[...where, ...after].join(' AND ')} ORDER BY seq LIMIT ${limit}`;
  }
  return { page: { text: page, values: forPage.values }, count: countStatement(request) };
}

/**
 * How many events match, through which chain position: the matches after `counted.throughSeq`
 * for a later page, all of them for a first one. Whatever is counted, it is counted in one
 * statement, so from one snapshot.
 */
function countStatement(request: EventPageRequest): Statement {
  const p = new ParameterList();
  const { filter } = request;
  const counter = request.counted ? undefined : countedAs(filter);
  if (counter) {
    // One filter that can match most of a workspace, alone, on a first page: the append that
    // inserted the events counted them per value in the same transaction (migration 004), so
    // this snapshot's counter rows are exactly its events. One row (a few for an action prefix).
    const value = 'prefix' in counter ? `value LIKE ${p.add(`${escapeLike(counter.prefix)}%`)}` : `value = ${p.add(counter.value)}`;
    return {
      text: `SELECT coalesce(sum(events), 0)::bigint AS total, max(through_seq) AS through_seq${keyColumn(request, p)} FROM event_counts
        WHERE workspace_id = ${p.add(request.workspaceId)} AND name = ${p.add(counter.name)} AND ${value}`,
      values: p.values,
    };
  }
  const { where, targets, search, range, only } = conditions(request.workspaceId, filter, p);
  const after = request.counted ? [`seq > ${p.add(request.counted.throughSeq)}`] : [];
  if (only) {
    // Index-only on event_targets or event_search; DISTINCT folds an event's several matching
    // targets or parts into one.
    const [table, rows] = only === 'targets' ? ['event_targets', targets!] : ['event_search', search!];
    return { text: `SELECT count(DISTINCT seq) AS total, max(seq) AS through_seq${keyColumn(request, p)} FROM ${table} WHERE ${[...rows, ...range, ...after].join(' AND ')}`, values: p.values };
  }
  // With no filter but the time range, every position in the range is an event: a workspace's
  // positions run 1, 2, 3, ... without gaps (each append takes the next ones; events are never
  // deleted, except the oldest by retention, which leaves the rest gap-free). Two index probes
  // then count what counting row by row would take tens of milliseconds per 100k events to do.
  const total = onlyTimeRange(filter) ? 'coalesce(max(seq) - min(seq) + 1, 0)' : 'count(*)';
  return { text: `SELECT ${total} AS total, max(seq) AS through_seq${keyColumn(request, p)} FROM events WHERE ${[...where, ...after].join(' AND ')}`, values: p.values };
}

/** `, <key still valid> AS key_valid` for a request with a `keyId` (a column of the one-row count), else nothing. */
function keyColumn(request: EventPageRequest, p: ParameterList): string {
  return request.keyId === undefined ? '' : `, ${keysStillValid(p.add([request.keyId]))} AS key_valid`;
}

/** What event_counts counts (migration 004): filters that can match most of a workspace. */
type Counter = { name: 'action' | 'resource' | 'tenant_id' | 'actor_id' | 'target_type'; value: string } | { name: 'action'; prefix: string };

/** The counter row(s) holding this filter's total, when the filter is one counted filter alone. */
function countedAs(filter: EventFilter): Counter | undefined {
  const given = Object.entries(filter).filter(([, value]) => value !== undefined);
  if (given.length !== 1) return undefined;
  const [name, value] = given[0]!;
  if (name === 'action') {
    const action = value as ActionFilter;
    if ('exact' in action) return { name: 'action', value: action.exact };
    // `*` alone is every action: onlyTimeRange()'s two probes count that.
    return action.prefix === '' ? undefined : { name: 'action', prefix: action.prefix };
  }
  if (name === 'resource' || name === 'tenant_id' || name === 'actor_id' || name === 'target_type') return { name, value: value as string };
  return undefined;
}

function onlyTimeRange(filter: EventFilter): boolean {
  return Object.entries(filter).every(([name, value]) => value === undefined || name === 'from' || name === 'to'
    || (name === 'action' && 'prefix' in value && value.prefix === ''));
}

type EventRow = Parameters<typeof eventFromRow>[0];
type CountRow = { total: number; through_seq: number | null; key_valid?: boolean };

/**
 * The statements of {@link eventPageStatements}, run as the API runs them: page and count at
 * the same time on two connections, or a search's first page alone. Returns the page's rows (one
 * more than asked when more follow) and what was counted this time. Exposed so the benchmark
 * times exactly this; {@link queryEvents} turns it into a page.
 */
export async function runEventPage(pool: pg.Pool, request: EventPageRequest): Promise<{ rows: EventRow[]; counted: CountRow }> {
  const { page, count } = eventPageStatements(request);
  if (count) {
    const [rows, counted] = await Promise.all([pool.query<EventRow>(page.text, page.values), pool.query<CountRow>(count.text, count.values)]);
    return { rows: rows.rows, counted: counted.rows[0]! };
  }
  const counting = (await pool.query<EventRow & CountRow>(page.text, page.values)).rows;
  return {
    rows: counting.filter((row) => row.id !== null).map(({ total: _total, through_seq: _through, key_valid: _key, ...row }) => row),
    counted: counting[0]!,
  };
}

/**
 * One page of a workspace's events matching `filter`, in chain order, with the total count.
 * The page and the count run at the same time on two connections, so the total may already
 * include an event that arrived after the page was read (or not yet one that is on it).
 *
 * ```ts
 * const page = await queryEvents(pool, { workspaceId, filter: { session_id: 'sess_4kN8pLm' }, limit: 100 });
 * ```
 */
export async function queryEvents(pool: pg.Pool, request: EventPageRequest): Promise<EventPage> {
  const { rows, counted } = await runEventPage(pool, request);
  const events = rows.slice(0, request.limit).map(eventFromRow);
  const earlier = request.counted ?? { total: 0, throughSeq: 0 };
  return {
    events, hasMore: rows.length > request.limit, count: { total: earlier.total + counted.total, throughSeq: counted.through_seq ?? earlier.throughSeq },
    keyValid: counted.key_valid,
  };
}

/**
 * One event of the workspace by id: `event` is undefined when it has none (another workspace's
 * event is never returned). With `keyId`, the key is checked in the same statement, as for a page:
 * `keyValid` says whether it is unrevoked, when the event was found.
 */
export async function findEvent(pool: pg.Pool, workspaceId: string, id: string, keyId?: string): Promise<{ event?: StoredEvent; keyValid?: boolean }> {
  const { rows } = await pool.query<EventRow & { key_valid?: boolean }>(
    `SELECT ${EVENT_COLUMNS}${keyId === undefined ? '' : `, ${keysStillValid('$3')} AS key_valid`} FROM events WHERE id = $1 AND workspace_id = $2`,
    keyId === undefined ? [id, workspaceId] : [id, workspaceId, [keyId]]);
  if (!rows[0]) return {};
  const { key_valid: keyValid, ...row } = rows[0];
  return { event: eventFromRow(row), keyValid };
}
