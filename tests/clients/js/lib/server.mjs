// Starts a real `kizuna` server process for one test file.
//
// Contract with the binary (see README.md):
//   kizuna --data_dir <dir> [--database.address postgres://…/kizuna_js_<hex>]
//          --socket.address 127.0.0.1 --socket.port 0
//          --logger.format json --logger.stdout true [extra args]
// Readiness: the first stdout line that is a JSON object with a string
// `http_addr` ("host:port"), at top level or inside `fields`.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Client } from '@heroiclabs/nakama-js';

const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const TAIL_LIMIT = 16 * 1024;
// nakama-js' own default request timeout.
const CLIENT_TIMEOUT_MS = 7_000;

// Every child still running, and every data dir not yet removed. Cleaned up
// synchronously if this test process ends for any reason (normal exit,
// uncaught error, Ctrl-C, runner SIGTERM) without calling stop().
const running = new Set();
const dataDirs = new Set();

function killAll() {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  running.clear();
  if (!process.env.KIZUNA_TEST_KEEP_DATA) {
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  }
  dataDirs.clear();
}

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(signal, () => {
    killAll();
    // Re-raise with the default handler so the exit status stays truthful.
    process.kill(process.pid, signal);
  });
}

// Keeps the last `limit` characters of a stream.
class Tail {
  constructor(limit = TAIL_LIMIT) {
    this.limit = limit;
    this.text = '';
  }

  push(chunk) {
    this.text += chunk;
    if (this.text.length > this.limit) this.text = this.text.slice(-this.limit);
  }

  toString() {
    return this.text.trim() === '' ? '(empty)' : this.text.trimEnd();
  }
}

// Returns "host:port" from a readiness log line, or undefined.
export function readinessAddress(line) {
  let entry;
  try {
    entry = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (entry === null || typeof entry !== 'object') return undefined;
  if (typeof entry.http_addr === 'string') return entry.http_addr;
  if (entry.fields && typeof entry.fields === 'object' && typeof entry.fields.http_addr === 'string') {
    return entry.fields.http_addr;
  }
  return undefined;
}

// "127.0.0.1:7350" / "[::1]:7350" -> { host, port }; unspecified -> loopback.
export function splitHostPort(addr) {
  const idx = addr.lastIndexOf(':');
  if (idx <= 0) throw new Error(`http_addr "${addr}" is not host:port`);
  let host = addr.slice(0, idx);
  const portText = addr.slice(idx + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new Error(`http_addr "${addr}" has no usable port (the server must report the bound port, not 0)`);
  }
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host === '0.0.0.0' || host === '') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return { host, port };
}

// Two conveniences around a nakama-js Client; calls, results and rejections
// stay exactly as nakama-js makes them (same Response object, body unread):
//  * nakama-js rejects with the bare fetch `Response`, which node:test prints
//    without its body; the Response is taught to print "HTTP <status> <body>".
//  * nakama-js races every request against `setTimeout(reject, timeout)` and
//    never clears that timer, so each call would keep the test process alive
//    for `timeout` ms after the last request. The timer is armed synchronously
//    inside the call, so it is created unref'd here: it still fires while a
//    request is pending (the socket keeps the process alive), but no longer
//    holds the process open once the tests are done.
function withReadableRejections(client) {
  return new Proxy(client, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function' || prop === 'constructor') return value;
      return (...args) => {
        const result = withUnrefTimers(() => value.apply(target, args));
        return result instanceof Promise ? result.catch(annotateResponse) : result;
      };
    },
  });
}

const realSetTimeout = globalThis.setTimeout;
function withUnrefTimers(fn) {
  globalThis.setTimeout = (...args) => {
    const timer = realSetTimeout(...args);
    timer?.unref?.();
    return timer;
  };
  try {
    return fn();
  } finally {
    globalThis.setTimeout = realSetTimeout;
  }
}

async function annotateResponse(err) {
  if (err instanceof Response && !err.bodyUsed) {
    let text;
    try {
      text = await err.clone().text();
    } catch (e) {
      text = `<unreadable body: ${e.message}>`;
    }
    Object.defineProperty(err, inspect.custom, {
      value: () => `nakama-js rejected with Response: HTTP ${err.status} ${err.url} ${text}`,
      configurable: true,
    });
  }
  throw err;
}

function databaseArgs(dataDir) {
  const kind = (process.env.KIZUNA_TEST_DB ?? 'sqlite').trim().toLowerCase() || 'sqlite';
  const args = ['--data_dir', dataDir];
  if (kind === 'sqlite') return { kind, args };
  if (kind === 'postgres') {
    const prefix = (process.env.KIZUNA_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432').replace(/\/+$/, '');
    const database = `kizuna_js_${randomBytes(6).toString('hex')}`;
    args.push('--database.address', `${prefix}/${database}`);
    return { kind, args, database };
  }
  throw new Error(`KIZUNA_TEST_DB must be "sqlite" or "postgres", got "${process.env.KIZUNA_TEST_DB}"`);
}

// The tests sign tokens with Nakama's default session keys, so the server is given them
// explicitly (unset, kizuna generates random ones). `defaultKeys: false` leaves them unset.
const DEFAULT_KEY_ARGS = [
  '--session.encryption_key', 'defaultencryptionkey',
  '--session.refresh_encryption_key', 'defaultrefreshencryptionkey',
];

export async function startServer({ args = [], defaultKeys = true } = {}) {
  const bin = process.env.KIZUNA_BIN;
  if (!bin) {
    throw new Error('KIZUNA_BIN is not set: point it at the kizuna server binary, ' +
      'e.g. KIZUNA_BIN=$PWD/target/debug/kizuna npm test');
  }

  const dataDir = mkdtempSync(join(tmpdir(), 'kizuna-js-'));
  dataDirs.add(dataDir);
  const removeDataDir = () => {
    dataDirs.delete(dataDir);
    if (process.env.KIZUNA_TEST_KEEP_DATA) return;
    rmSync(dataDir, { recursive: true, force: true });
  };

  let db;
  try {
    db = databaseArgs(dataDir);
  } catch (e) {
    removeDataDir();
    throw e;
  }
  const fullArgs = [
    ...db.args,
    '--socket.address', '127.0.0.1',
    '--socket.port', '0',
    '--logger.format', 'json',
    '--logger.stdout', 'true',
    ...(defaultKeys ? DEFAULT_KEY_ARGS : []),
    ...args,
  ];
  const commandLine = [bin, ...fullArgs].join(' ');
  const echo = Boolean(process.env.KIZUNA_TEST_LOG);

  const stdoutTail = new Tail();
  const stderrTail = new Tail();
  const child = spawn(bin, fullArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);

  let exitInfo; // { code, signal } once the process has exited
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      running.delete(child);
      resolve(exitInfo);
    });
  });

  const report = (what) => [
    `kizuna ${what}`,
    `command: ${commandLine}`,
    `database: ${db.kind}${db.database ? ` (${db.database})` : ''}`,
    '--- stderr (tail) ---',
    stderrTail.toString(),
    '--- stdout (tail) ---',
    stdoutTail.toString(),
  ].join('\n');

  const address = await new Promise((resolve, reject) => {
    let settled = false;
    let pending = '';
    const finish = (fn, value) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn(value);
    };

    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(reject, new Error(report(
        `did not log a JSON line with "http_addr" within ${READY_TIMEOUT_MS / 1000} s`)));
    }, READY_TIMEOUT_MS);

    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    // Both pipes are drained for the whole life of the process so the server
    // never blocks on a full pipe.
    child.stderr.on('data', (chunk) => {
      stderrTail.push(chunk);
      if (echo) process.stderr.write(chunk);
    });
    child.stdout.on('data', (chunk) => {
      stdoutTail.push(chunk);
      if (echo) process.stderr.write(chunk);
      if (settled) return;
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).replace(/\r$/, '');
        pending = pending.slice(nl + 1);
        const addr = readinessAddress(line);
        if (addr !== undefined) {
          try {
            finish(resolve, splitHostPort(addr));
          } catch (e) {
            child.kill('SIGKILL');
            finish(reject, new Error(report(e.message)));
          }
          return;
        }
      }
    });

    child.once('error', (e) => {
      finish(reject, new Error(report(`could not be started from KIZUNA_BIN=${bin}: ${e.message}`)));
    });
    // 'close' fires once the process has exited and its pipes are drained, so
    // the tails hold its last words.
    child.once('close', (code, signal) => {
      finish(reject, new Error(report(
        `exited (${signal ? `signal ${signal}` : `code ${code}`}) before logging a JSON line with "http_addr"`)));
    });
  }).catch((e) => {
    removeDataDir();
    throw e;
  });

  const { host, port } = address;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const baseUrl = `http://${urlHost}:${port}`;

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (!exitInfo) {
        child.kill('SIGTERM');
        let killTimer;
        const forced = new Promise((resolve) => {
          killTimer = setTimeout(() => {
            child.kill('SIGKILL');
            resolve();
          }, STOP_TIMEOUT_MS);
        });
        await Promise.race([exited, forced]);
        await exited;
        clearTimeout(killTimer);
      }
      removeDataDir();
      return exitInfo;
    })();
    return stopping;
  };

  return {
    host,
    port,
    baseUrl,
    // nakama-js client for this server. autoRefreshSession defaults to false
    // here: with Nakama's default 60 s token lifetime nakama-js would otherwise
    // call sessionRefresh before every request (it refreshes when the token
    // expires within 5 minutes), hiding exactly what the tests look at.
    client(serverKey = 'defaultkey', { autoRefreshSession = false, timeout = CLIENT_TIMEOUT_MS } = {}) {
      return withReadableRejections(new Client(serverKey, urlHost, String(port), false, timeout, autoRefreshSession));
    },
    // Tails of the server output, for diagnostics in failing tests.
    logs: () => ({ stdout: stdoutTail.toString(), stderr: stderrTail.toString() }),
    exitInfo: () => exitInfo,
    stop,
  };
}
