/** Realistic audit events for benchmarks: deterministic, 0.5–1 KB each as JSON, with metadata and targets. */

/** A small deterministic PRNG (mulberry32), so every run sends the same events. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ACTIONS = ['document.created', 'document.viewed', 'document.edited', 'document.moved', 'document.deleted', 'folder.created',
  'user.login', 'user.logout', 'invoice.paid', 'invoice.refunded', 'member.invited', 'role.changed', 'trash.emptied', 'api_key.rotated'];
const FIRST = ['Sarah', 'Lisa', 'Omar', 'Yuki', 'Ana', 'Kwame', 'Priya', 'Lars', 'Chen', 'Fatima', 'Diego', 'Zoë'];
const LAST = ['Chen', 'Wang', 'Haddad', 'Tanaka', 'Silva', 'Mensah', 'Iyer', 'Nilsen', 'Li', 'Okafor', 'García', 'Müller'];
const AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  'acme-sync/4.2.1 (+https://acme.example/bot)',
];

export interface BenchEvent {
  actor_id: string; actor_name: string; actor_type: string; action: string; action_category: string;
  resource: string; resource_id: string; resource_name: string; metadata: Record<string, unknown>;
  targets: Array<{ type: string; id: string; name: string }>; session_id: string; tenant_id: string;
  ip_address: string; user_agent: string; occurred_at: string;
}

/** `count` events spread over `tenants` tenants, `actors` actors and sessions of ~20 events. */
export function generateEvents(count: number, seed = 1, shape: { tenants?: number; actors?: number } = {}): BenchEvent[] {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const tenants = shape.tenants ?? 50;
  const actors = shape.actors ?? 2000;
  const base = Date.UTC(2026, 2, 15);
  return Array.from({ length: count }, (_, i) => {
    const actor = Math.floor(random() * actors);
    const action = pick(ACTIONS);
    const [resource] = action.split('.') as [string];
    const lines = 2 + Math.floor(random() * 8);
    return {
      actor_id: `user_${actor.toString(36)}`,
      actor_name: `${FIRST[actor % FIRST.length]} ${LAST[(actor * 7) % LAST.length]}`,
      actor_type: actor % 50 === 0 ? 'api_client' : 'user',
      action,
      action_category: `${resource}s`,
      resource,
      resource_id: `${resource.slice(0, 3)}_${Math.floor(random() * 1e9).toString(36)}`,
      resource_name: `${pick(['Q4', 'Q3', 'Annual', 'Draft', 'Final'])} ${pick(['Financial Report', 'Budget', 'Roadmap', 'Contract', 'Invoice'])} ${i % 97}`,
      metadata: {
        folder: pick(['reports', 'finance', 'legal', 'shared', 'archive']),
        request_id: `req_${Math.floor(random() * 1e12).toString(36)}`,
        client: { app: pick(['web', 'ios', 'android', 'cli']), version: `${1 + Math.floor(random() * 5)}.${Math.floor(random() * 20)}.0` },
        changes: Array.from({ length: lines }, (_, l) => ({ field: pick(['title', 'owner', 'folder', 'status', 'tags']), from: `value-${l}-${Math.floor(random() * 1000)}`, to: `value-${l + 1}` })),
      },
      targets: Array.from({ length: 1 + Math.floor(random() * 3) }, () => ({ type: pick(['folder', 'user', 'team']), id: `t_${Math.floor(random() * 1e6).toString(36)}`, name: pick(['Reports', 'Archive', 'Finance Team', 'Legal']) })),
      session_id: `sess_${Math.floor(i / 20).toString(36)}_${actor.toString(36)}`,
      tenant_id: `org_${Math.floor(random() * tenants).toString(36)}`,
      ip_address: `${11 + Math.floor(random() * 180)}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 250)}`,
      user_agent: pick(AGENTS),
      occurred_at: new Date(base + i * 1000).toISOString(),
    };
  });
}
