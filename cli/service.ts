import { join } from 'node:path';
import { serveApi } from '../api/mod.ts';
import { required, type Config } from '../config/mod.ts';
import type { Logger } from '../log/mod.ts';
import { startLocalStack } from '../stack/mod.ts';
import { createPool, migrate } from '../store/mod.ts';
import { runWorker } from '../worker/mod.ts';

const ENTRY = join(import.meta.dirname, 'main.ts');

/**
 * Resolves on the first SIGINT or SIGTERM, and keeps absorbing later ones: a Ctrl-C under
 * `npm start` arrives twice (from the terminal and forwarded by npm), and a second, unhandled
 * signal would kill the process halfway through stopping what it started.
 */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received: NodeJS.Signals | undefined;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.on(signal, () => {
        if (received) return;
        received = signal;
        resolve(signal);
      });
    }
  });
}

/** A child of `sealtrail start` exits when its supervisor goes away, so none is ever orphaned. */
function parentGone(): Promise<void> {
  return new Promise((resolve) => { if (process.channel) process.once('disconnect', () => resolve()); });
}

export async function runServiceCommand(command: 'start' | 'api' | 'worker' | 'migrate', config: Config, log: Logger): Promise<number> {
  switch (command) {
    case 'migrate': {
      const pool = createPool(required(config.database.url, 'DATABASE_URL'), { max: 1 });
      try {
        const applied = await migrate(pool);
        log.info('migrations applied', { applied: applied.map((m) => m.name) });
      } finally { await pool.end(); }
      return 0;
    }
    case 'api': {
      const api = await serveApi(config, log);
      process.send?.('ready');
      await Promise.race([stopSignal(), parentGone()]);
      await api.close();
      return 0;
    }
    case 'worker': {
      const worker = await runWorker(config, log);
      process.send?.('ready'); // to a supervising `sealtrail start`
      // The Temporal runtime shuts the worker down on SIGINT/SIGTERM by itself.
      await Promise.race([worker.run, parentGone().then(() => worker.shutdown())]);
      return 0;
    }
    case 'start': {
      const startedAt = performance.now();
      const stack = await startLocalStack(config, log, ENTRY);
      const { info } = stack;
      console.log([
        '',
        `Sealtrail is running (ready in ${((performance.now() - startedAt) / 1000).toFixed(1)} s).`,
        `  API:          ${info.api_url}`,
        `  Temporal UI:  ${info.temporal_ui_url ?? '(external cluster)'}`,
        `  Workspace:    ${info.workspace_id}`,
        `  Admin key:    ${info.api_key}`,
        `  (also in ${join(config.dataDir, 'local.json')})`,
        '',
        'Send a first event:',
        `  curl -X POST ${info.api_url}/api/v1/events -H "Authorization: Bearer ${info.api_key}" \\`,
        `    -H "Content-Type: application/json" -d '{"actor_id":"user_1","action":"document.created"}'`,
        '',
        'Press Ctrl-C to stop.',
      ].join('\n'));
      const signal = await stopSignal();
      log.info('stopping', { signal });
      await stack.stop();
      return 0;
    }
  }
}
