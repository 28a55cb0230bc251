import type { Context } from 'koa';
import { badRequest, payloadTooLarge } from './errors.ts';

/**
 * Reads and parses the JSON body, enforcing `limit` bytes before buffering more than that.
 * Malformed JSON is a 400; an oversized body a 413.
 */
export async function readJsonBody(ctx: Context, limit: number): Promise<unknown> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) throw payloadTooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw payloadTooLarge(limit);
    chunks.push(chunk);
  }
  if (size === 0) throw badRequest('The request body is empty; send a JSON object.');
  try {
    return JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
  } catch (error) {
    throw badRequest(`The request body is not valid JSON: ${(error as Error).message}`);
  }
}
