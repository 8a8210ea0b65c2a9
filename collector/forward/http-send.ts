import { isRetryableStatus, parseRetryAfter } from '../../src/core/backoff';
import type { BatchOutcome } from './types';

/** A request a destination wants sent. */
export interface HttpRequest {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  /** JSON text, or CSV. */
  body: string;
}

/** What came back. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** Longest reason kept with a failed row: enough to act on, never a whole answer. */
const MAX_REASON = 500;

export const shorten = (text: string): string => (text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text);

/**
 * Sends a request, with a timeout. A network error or a timeout resolves to `null` (the caller
 * retries); it never throws.
 */
export async function sendHttp(fetchImpl: typeof fetch, request: HttpRequest, timeoutMs: number): Promise<HttpAnswer | { error: string }> {
  try {
    const response = await fetchImpl(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  } catch (error) {
    const name = (error as Error).name;
    return { error: name === 'TimeoutError' || name === 'AbortError' ? `timeout after ${timeoutMs} ms` : `network: ${(error as Error).message}` };
  }
}

/**
 * The answer's transport verdict, shared by every destination: 408, 429 and 5xx are retried
 * (honouring `Retry-After`), as the browser's delivery does (contract 4); any other 4xx is refused
 * for good with `reason` (the destination's own reading of the body). `null` for a 2xx: the
 * destination reads the body.
 */
export function transportOutcome(answer: HttpAnswer, reason: (answer: HttpAnswer) => string, now: number): BatchOutcome | null {
  if (answer.status >= 200 && answer.status < 300) return null;
  if (isRetryableStatus(answer.status)) {
    return { kind: 'all', outcome: { kind: 'retry', reason: shorten(`http_${answer.status}: ${reason(answer)}`), retryAfterMs: parseRetryAfter(answer.headers.get('retry-after'), now) } };
  }
  return { kind: 'rejected', reason: shorten(`http_${answer.status}: ${reason(answer)}`) };
}

/** The body as JSON, or undefined. */
export function json(answer: HttpAnswer): unknown {
  try {
    return JSON.parse(answer.text);
  } catch {
    return undefined;
  }
}

/** A URL's secrets replaced, for printing: `access_token=…`, `api_secret=…`. */
export function maskUrl(url: string, secrets: readonly string[]): string {
  const parsed = new URL(url);
  for (const name of secrets) if (parsed.searchParams.has(name)) parsed.searchParams.set(name, '***');
  return decodeURI(parsed.toString());
}
