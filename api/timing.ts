import type { Middleware } from 'koa';

/**
 * The stages of one request, answered as a W3C `Server-Timing` header
 * (`auth;dur=0.41, body;dur=0.05, wait;dur=3.98, write;dur=1.20`, in ms): where the server's
 * time went, so that a client or a benchmark can tell a slow stage from time the request spent
 * before the server read it.
 */
export class StageTimer {
  #last = performance.now();
  readonly #stages: string[] = [];

  /** Ends the stage `name` now (or at `at`, a performance.now() time) and starts the next. */
  lap(name: string, at = performance.now()): void {
    this.#stages.push(`${name};dur=${Math.max(0, at - this.#last).toFixed(2)}`);
    this.#last = Math.max(this.#last, at);
  }

  toString(): string {
    return this.#stages.join(', ');
  }
}

export interface TimingState { timing: StageTimer }

/** Gives each request a {@link StageTimer}; stages recorded by the handlers are sent back on success. */
export function serverTiming(): Middleware<TimingState> {
  return async (ctx, next) => {
    ctx.state.timing = new StageTimer();
    await next();
    const stages = ctx.state.timing.toString();
    if (stages) ctx.set('Server-Timing', stages);
  };
}
