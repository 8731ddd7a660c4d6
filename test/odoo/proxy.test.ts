import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createOdooClient } from '../../agent/odoo/client';
import { OdooError } from '../../agent/odoo/types';
import { startOdooSim, type OdooSim } from '../odoo-sim';
import { rejection, silentLogger, simConfig } from './helpers';

/** A forwarding proxy that only speaks CONNECT (what undici uses for http and https targets). */
async function startConnectProxy(opts: { refuse?: boolean } = {}): Promise<{ url: string; tunnels: string[]; close(): Promise<void> }> {
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    tunnels.push(req.url ?? '');
    if (opts.refuse) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('proxies from the environment', () => {
  let sim: OdooSim;
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy, NO_PROXY: process.env.NO_PROXY, no_proxy: process.env.no_proxy };
  before(async () => {
    sim = await startOdooSim({ seed: false });
    delete process.env.http_proxy;
    delete process.env.no_proxy;
  });
  after(async () => {
    await sim.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('goes through HTTP_PROXY', async () => {
    const proxy = await startConnectProxy();
    process.env.HTTP_PROXY = proxy.url;
    delete process.env.NO_PROXY;
    const client = createOdooClient(simConfig(sim), silentLogger);
    try {
      assert.equal((await client.connect()).protocol, 'json2');
      assert.ok(proxy.tunnels.length >= 1);
      assert.equal(proxy.tunnels[0], `127.0.0.1:${sim.port}`);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it('skips the proxy for hosts in NO_PROXY', async () => {
    const proxy = await startConnectProxy();
    process.env.HTTP_PROXY = proxy.url;
    process.env.NO_PROXY = '127.0.0.1';
    const client = createOdooClient(simConfig(sim), silentLogger);
    try {
      await client.connect();
      assert.equal(proxy.tunnels.length, 0);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it('a proxy that wants credentials (407) stops: a person must fix the proxy settings', async () => {
    const proxy = await startConnectProxy({ refuse: true });
    process.env.HTTP_PROXY = proxy.url;
    delete process.env.NO_PROXY;
    const client = createOdooClient(simConfig(sim), silentLogger);
    try {
      const err = await rejection(client.connect());
      assert.ok(err instanceof OdooError);
      assert.equal(err.action, 'stop');
      assert.equal(err.status, 407);
      assert.equal(proxy.tunnels.length, 1);
    } finally {
      await client.close();
      await proxy.close();
    }
  });
});
