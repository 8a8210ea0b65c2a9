import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { socketUrl, startThrowawayPostgres } from '../../../scripts/postgres.mjs';

/**
 * The PostgreSQL tests run wherever `npm test` runs: it installs the server first
 * (scripts/ensure-postgres.mjs), and each test file starts its own throwaway cluster. Without a server
 * they fail, saying how to get one; only `MICROCONV_SKIP_POSTGRES=1`, set on purpose (a laptop without
 * PostgreSQL and without root), skips them.
 */
export const SKIP_POSTGRES = process.env.MICROCONV_SKIP_POSTGRES === '1';
export const describePostgres = SKIP_POSTGRES ? describe.skip : describe;

export interface TestPostgres {
  /** The server's own database URL (for admin work). */
  readonly url: string;
  /** A new, empty database on the throwaway server; its URL. `options`: the rest of `CREATE DATABASE` (`ENCODING 'LATIN1' ...`). */
  database(options?: string): Promise<string>;
}

/**
 * Starts a throwaway PostgreSQL cluster before the file's tests and removes it after them. Call at the
 * top of a `describePostgres` block.
 */
export function useThrowawayPostgres(): TestPostgres {
  let server: ReturnType<typeof startThrowawayPostgres> | undefined;
  let databases = 0;
  beforeAll(() => {
    try {
      server = startThrowawayPostgres();
    } catch (error) {
      throw new Error(
        `The collector's PostgreSQL tests need a PostgreSQL server and could not start one: ${(error as Error).message}\n` +
          'To skip them on purpose (a machine without PostgreSQL where you cannot install it), set MICROCONV_SKIP_POSTGRES=1.',
      );
    }
  }, 120_000);
  afterAll(() => server?.stop());
  const running = () => {
    if (!server) throw new Error('the throwaway PostgreSQL is not running (see the error of beforeAll)');
    return server;
  };
  return {
    get url() {
      return running().url;
    },
    async database(options = '') {
      const name = `test_${process.pid}_${++databases}`;
      const admin = new pg.Client({ connectionString: running().url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name} ${options}`);
      } finally {
        await admin.end();
      }
      return socketUrl(running().socketDir, name);
    },
  };
}
