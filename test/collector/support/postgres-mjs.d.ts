// Types of scripts/postgres.mjs, which the PostgreSQL tests import. The helper stays plain JavaScript
// so that scripts/ensure-postgres.mjs runs on a bare `node`, before any TypeScript tooling.
declare module '*/scripts/postgres.mjs' {
  export const THROWAWAY_USER: string;
  export const INSTALL_HELP: string;
  export function findPostgres(): { bindir: string; version: string } | undefined;
  export function startThrowawayPostgres(): { url: string; socketDir: string; version: string; stop(): void };
  export function socketUrl(socketDir: string, database: string): string;
}
