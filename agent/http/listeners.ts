import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { AgentError, errorMessage } from '../errors';
import type { Logger } from '../log';

/**
 * The page's listening sockets: plain HTTP, or HTTPS with the configured
 * certificate; the time a client may take; one server per bind address, and
 * addresses that are not up yet tried again.
 */

/** How long a client may take to send a request. docs/status-page.md states them (Limits). */
export interface RequestLimits {
  /** The request headers within this long (ms). */
  headersMs: number;
  /** The whole request, headers and body, within this long (ms). */
  requestMs: number;
}

export const DEFAULT_LIMITS: RequestLimits = { headersMs: 20_000, requestMs: 30_000 };

/** A TLS handshake must be done within this long; the request's own limits start after it. */
export const TLS_HANDSHAKE_MS = 10_000;

/** The page's certificate and its private key (PEM). */
export interface PageTls {
  certificate: string;
  key: string;
}

const RETRY_BIND_MS = 30_000;

/** One server for one address, with the limits enforced. */
export function pageServer(handle: RequestListener, limits: RequestLimits, tls: PageTls | undefined): Server {
  const options = {
    headersTimeout: Math.min(limits.headersMs, limits.requestMs),
    requestTimeout: limits.requestMs,
    // Node looks for requests past their time this often; its default (30 s) let a slow request live up to 60 s.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.requestMs / 4))),
  };
  const s = tls
    ? createHttpsServer({ ...options, cert: tls.certificate, key: tls.key, handshakeTimeout: TLS_HANDSHAKE_MS }, handle)
    : createHttpServer(options, handle);
  s.keepAliveTimeout = 5_000;
  s.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // Past its time and nothing answered yet: say so before closing.
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && socket.writable && (socket as Socket).bytesWritten === 0) {
      socket.write('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
    socket.destroy();
  });
  return s;
}

export interface Listeners {
  /** The port listened on (the one the system chose, for port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * Listen on every host. The first host must work, or this fails with
 * HTTP_LISTEN naming the address and port. A later host whose address is not
 * up yet (DHCP at boot) is tried again every 30 s; with `retryAll` (an
 * optional page) so is every host that fails, the first too.
 */
export async function listenOn(hosts: string[], port: number, newServer: () => Server, log: Logger, retryAll: boolean): Promise<Listeners> {
  const servers: Server[] = [];
  const retryTimers: NodeJS.Timeout[] = [];
  let closed = false;

  const bindLater = (host: string) => {
    const t = setTimeout(() => {
      retryTimers.splice(retryTimers.indexOf(t), 1);
      if (closed) return;
      const s = newServer();
      listen(s, port, host).then(
        () => {
          if (closed) return void s.close();
          servers.push(s);
          log.info({ host, port }, `status page now also on ${host}:${port}`);
        },
        () => bindLater(host),
      );
    }, RETRY_BIND_MS);
    t.unref();
    retryTimers.push(t);
  };

  try {
    for (const [i, host] of hosts.entries()) {
      const s = newServer();
      try {
        await listen(s, port, host);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const problem = `status page cannot listen on ${host}:${port}: ${code ? `${code} (${listenProblem(code)})` : errorMessage(err)}`;
        if (retryAll || (i > 0 && code === 'EADDRNOTAVAIL')) {
          log.warn({ host, port, code }, `${problem}; trying again every ${RETRY_BIND_MS / 1000} s`);
          bindLater(host);
          continue;
        }
        throw new AgentError('HTTP_LISTEN', problem, { cause: err });
      }
      servers.push(s);
      if (port === 0) port = (s.address() as AddressInfo).port;
    }
  } catch (err) {
    await Promise.all(servers.map(closeServer));
    throw err;
  }
  return {
    port,
    async close() {
      if (closed) return;
      closed = true;
      retryTimers.forEach(clearTimeout);
      await Promise.all(servers.map(closeServer));
    },
  };
}

function listenProblem(code: string): string {
  switch (code) {
    case 'EADDRINUSE':
      return 'another program, or another agent, uses this port';
    case 'EADDRNOTAVAIL':
      return 'this gateway has no such address';
    case 'EACCES':
      return 'not allowed: a port below 1024 needs privileges';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unknown host name';
    default:
      return 'see http.bind and http.port';
  }
}

function listen(s: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    s.once('error', onError);
    s.listen(port, host, () => {
      s.off('error', onError);
      resolve();
    });
  });
}

function closeServer(s: Server): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });
}

/** How people and the CLI reach the page on `host`. */
export function hostUrl(host: string, port: number, tls: boolean): string {
  const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${h}:${port}`;
}
