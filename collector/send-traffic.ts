import { setTimeout as sleep } from 'node:timers/promises';
import type { MicroconvEvent } from '../src/types';
import { DEMO_MODEL, generateTraffic, type TrafficModel, type TrafficOptions } from './simulate';

export interface SendOptions extends TrafficOptions {
  /**
   * The collect URL, such as `http://127.0.0.1:8787/collect`; or several (collectors sharing one
   * store), taken in turn request by request, as a round-robin load balancer would: a retry or a
   * replay may well reach another collector than the first try did.
   */
  url: string | readonly string[];
  model?: TrafficModel;
  /** Sessions sending at the same time. Default 8. */
  concurrency?: number;
  /** Share of batches sent twice, as when a response is lost and the SDK retries. Default 0.02. */
  replayRate?: number;
  /** An `Origin` header, to send as a page on that site would. */
  origin?: string;
  /** Called after each session. */
  onProgress?: (sessionsDone: number, eventsSent: number) => void;
  /** Changes each event before it is sent (the forwarding simulation adds consent and ids). */
  decorate?: (event: MicroconvEvent) => MicroconvEvent;
  /** More request headers (a browser's `User-Agent`, say). */
  headers?: Record<string, string>;
}

export interface SendResult {
  sessions: number;
  events: number;
  requests: number;
  /** Requests sent to each URL. */
  requestsByUrl: Record<string, number>;
  /** Batches sent a second time on purpose (the collector must store them once). */
  replays: number;
  /** Requests answered 429 and retried after `Retry-After`. */
  rateLimited: number;
  /** Batches refused (4xx other than 429) or given up on, with the first few answers. */
  failed: number;
  /** Events the collector refused for good in a 2xx answer (`rejected`); not counted in `events`. */
  rejected: number;
  problems: string[];
}

const MAX_ATTEMPTS = 8;

type Rejected = { event_id: string | null; problems: string[] };

/**
 * Sends seeded traffic to a collector over HTTP, as browsers running the SDK would: `text/plain`
 * JSON payloads (contract 5), the batches of each session in order, sessions in parallel. It honours
 * `Retry-After` on 429 and backs off on 5xx and network errors, like the SDK (contract 4).
 */
export async function sendTraffic(options: SendOptions): Promise<SendResult> {
  const model = options.model ?? DEMO_MODEL;
  // Whether a batch is replayed follows from its first event id: the same batches whatever the
  // order the parallel sessions finish in, and the traffic itself is the same with replays on or off.
  const replayRate = options.replayRate ?? 0.02;
  const replayed = (eventId: string) => parseInt(eventId.slice(0, 8), 16) / 0x1_0000_0000 < replayRate;
  const urls = typeof options.url === 'string' ? [options.url] : [...options.url];
  if (urls.length === 0) throw new TypeError('sendTraffic: no collect URL');
  const result: SendResult = { sessions: 0, events: 0, requests: 0, requestsByUrl: Object.fromEntries(urls.map((url) => [url, 0])), replays: 0, rateLimited: 0, failed: 0, rejected: 0, problems: [] };
  const note = (problem: string) => void (result.problems.length < 5 && result.problems.push(problem));
  const headers: Record<string, string> = { 'Content-Type': 'text/plain;charset=UTF-8', ...options.headers };
  if (options.origin) headers.Origin = options.origin;

  /** Sends one batch; resolves to the events the collector refused for good (`null`: the whole batch failed). */
  async function post(body: string): Promise<Rejected[] | null> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      const url = urls[result.requests++ % urls.length]!;
      result.requestsByUrl[url]!++;
      let status = 0;
      let wait = 500 * 2 ** (attempt - 1);
      let answer = '';
      try {
        const response = await fetch(url, { method: 'POST', headers, body });
        status = response.status;
        answer = await response.text();
        if (response.ok) return rejectedIn(answer);
        if (status === 429) {
          result.rateLimited++;
          wait = Math.min(30, Number(response.headers.get('Retry-After')) || 1) * 1000;
        }
      } catch (error) {
        answer = (error as Error).message;
      }
      const retry = status === 0 || status === 408 || status === 429 || status >= 500;
      if (!retry || attempt === MAX_ATTEMPTS) {
        result.failed++;
        note(`HTTP ${status || 'error'}: ${answer.slice(0, 300)}`);
        return null;
      }
      await sleep(wait);
    }
    return null;
  }

  /** A 2xx may name events refused for good (contract 4); a 204 or a body without `rejected` names none. */
  function rejectedIn(answer: string): Rejected[] {
    try {
      return (answer && JSON.parse(answer).rejected) || [];
    } catch {
      return []; // Not JSON: a 2xx with some other body stored the batch.
    }
  }

  const sessions = generateTraffic(model, options);
  const worker = async () => {
    for (const session of sessions) {
      for (const sent of session.batches) {
        const batch = options.decorate ? sent.map(options.decorate) : sent;
        const body = JSON.stringify({ v: 1, sent_at: new Date(batch[batch.length - 1]!.ts + 250).toISOString(), events: batch });
        const rejected = await post(body);
        if (rejected !== null) {
          result.events += batch.length - rejected.length;
          result.rejected += rejected.length;
          for (const entry of rejected) note(`rejected ${entry.event_id}: ${entry.problems.join('; ').slice(0, 300)}`);
        }
        if (replayed(batch[0]!.event_id)) {
          result.replays++;
          await post(body);
        }
      }
      result.sessions++;
      options.onProgress?.(result.sessions, result.events);
    }
  };
  // Workers share one generator: each takes the next session when it is free.
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  return result;
}
