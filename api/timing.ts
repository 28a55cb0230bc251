import type { Middleware } from 'koa';

/**
 * The stages of one request, answered as a W3C `Server-Timing` header
 * (`auth;dur=0.41, body;dur=0.05, wait;dur=3.98, write;dur=1.20, start;desc="1763773200123.456"`,
 * in ms): where the server's time went, and when it began, so that a client or a benchmark can
 * tell a slow stage from time the request spent before the server took it up or after it answered.
 */
export class StageTimer {
  #last = performance.now();
  /** When the handling began, in ms since the epoch (µs precision): on one machine, a client can tell how long the request waited before it. */
  readonly #startedAt = performance.timeOrigin + this.#last;
  readonly #stages: string[] = [];

  /** Ends the stage `name` now (or at `at`, a performance.now() time) and starts the next. */
  lap(name: string, at = performance.now()): void {
    this.#stages.push(`${name};dur=${Math.max(0, at - this.#last).toFixed(2)}`);
    this.#last = Math.max(this.#last, at);
  }

  /** The stages, then `start;desc="<epoch ms>"`; empty when no stage was recorded. */
  toString(): string {
    return this.#stages.length === 0 ? '' : [...this.#stages, `start;desc="${this.#startedAt.toFixed(3)}"`].join(', ');
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
