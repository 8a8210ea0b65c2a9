import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HOOKS = new URL('./ts-hooks.mjs', import.meta.url).href;
/** `node --import` this: it registers ts-hooks.mjs, so the child runs the TypeScript sources as they are. */
const REGISTER = `data:text/javascript,${encodeURIComponent(`import { register } from 'node:module'; register(${JSON.stringify(HOOKS)});`)}`;

/** Runs one of `collector/bin/*.ts` in a child `node`, from the sources. */
export function spawnBin(bin: 'collector' | 'report' | 'simulate', args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', REGISTER, `collector/bin/${bin}.ts`, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface CollectorProcess {
  /** `http://127.0.0.1:port` */
  url: string;
  child: ChildProcess;
  /** Everything it wrote to stderr so far. */
  log(): string;
  /** SIGTERM, and resolves with its exit code once it has stopped. */
  stop(): Promise<number | null>;
}

/**
 * Starts `npm run collector` (collector/bin/collector.ts) as its own process on a free port, and
 * resolves once it says it listens. Rejects with its output if it exits first.
 */
export function startCollectorProcess(args: string[]): Promise<CollectorProcess> {
  const child = spawnBin('collector', ['--port', '0', ...args]);
  let stderr = '';
  let stdout = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      const listening = /microconv collector on (http:\/\/\S+)/.exec(stderr);
      if (listening) {
        resolve({
          url: listening[1]!,
          child,
          log: () => stderr,
          stop: () => {
            if (child.exitCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`the collector process exited (${code}) before listening:\n${stdout}${stderr}`)));
  });
}

/** Runs a bin to its end: its exit code and what it printed. */
export function runBin(bin: 'collector' | 'report' | 'simulate', args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawnBin(bin, args);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}
