/**
 * `keepAliveFetch` and its `WireResponse` against a real `http.createServer` on 127.0.0.1, and where
 * the behaviour is fetch's own (body reads, headers, abort, socket errors) against the global fetch
 * on the same server: status, ok, headers, the readers, single use of a body, clone, the body stream,
 * empty bodies, the shared deadline timer (and that it never keeps the process alive), abort signals,
 * refused and reset connections, and one kept-alive connection for sequential requests.
 *
 * Past 450 lines on purpose: each behaviour is checked against the global fetch on the same server, so
 * both sides of every comparison sit in one place.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { KeepAliveClient, ReplyTooLargeError, RequestTimeoutError } from '../../../src/brokers/http';
import { keepAliveFetch } from '../../../src/brokers/keepAliveFetch';

interface Venue {
  base: string;
  server: Server;
  /** TCP connections accepted so far. */
  connections: number;
  requests: number;
  /** Resolves with each request as it arrives at a route that never answers. */
  arrivals: Array<(req: IncomingMessage) => void>;
}

const UTF8_BODY = 'prix: 1 234,56 € — 価格 ✓ 🚀 end';
const BINARY_BODY = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

function route(venue: Venue, req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname;
  if (path === '/headers') {
    res.writeHead(201, [
      ['Content-Type', 'application/json; charset=utf-8'],
      ['X-Request-Id', 'req-42'],
      ['X-Multi', 'a'],
      ['X-Multi', 'b'],
      ['Set-Cookie', 'a=1; Path=/'],
      ['Set-Cookie', 'b=2; Path=/'],
    ]);
    res.end('{"ok":true}');
  } else if (path.startsWith('/status/')) {
    res.writeHead(Number(path.slice('/status/'.length)), { 'content-type': 'text/plain' });
    res.end(`status ${path}`);
  } else if (path === '/utf8') {
    // Split inside multi-byte characters, over several writes.
    const bytes = Buffer.from(UTF8_BODY, 'utf8');
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    for (let i = 0; i < bytes.length; i += 5) res.write(bytes.subarray(i, i + 5));
    res.end();
  } else if (path === '/binary') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(BINARY_BODY);
  } else if (path === '/json') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 'o-1', qty: '1.5', nested: { list: [1, 2, 3] }, text: UTF8_BODY }));
  } else if (path === '/empty') {
    res.writeHead(204, { 'x-empty': 'yes' });
    res.end();
  } else if (path === '/never') {
    for (const arrived of venue.arrivals.splice(0)) arrived(req);
  } else if (path.startsWith('/slow/')) {
    setTimeout(() => res.end('late'), Number(path.slice('/slow/'.length)));
  } else if (path === '/big') {
    // 4 MiB in 64 KiB writes, more than a client capped at 1 MiB reads.
    res.writeHead(200, { 'content-type': 'application/json' });
    const piece = Buffer.alloc(64 * 1024, 0x20);
    for (let i = 0; i < 64; i++) res.write(piece);
    res.end();
  } else if (path === '/reset') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
    res.write('only ten b', () => req.socket.destroy());
  } else {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
  }
}

async function startVenue(): Promise<Venue> {
  const server = createServer();
  const venue: Venue = { base: '', server, connections: 0, requests: 0, arrivals: [] };
  server.on('connection', () => venue.connections++);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    venue.requests++;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => route(venue, req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  venue.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return venue;
}

/** The next request to arrive at /never (its socket, to watch it close). */
function nextArrival(venue: Venue): Promise<IncomingMessage> {
  return new Promise((resolveArrival) => venue.arrivals.push(resolveArrival));
}

/** What a promise settled with, for comparing two fetch implementations. */
async function settle(p: Promise<unknown>): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  const s = await settle(p);
  assert.ok(!s.ok, 'expected a rejection');
  assert.ok(s.error instanceof Error, `rejected with a non-Error: ${String(s.error)}`);
  return s.error;
}

async function readStream(body: ReadableStream<Uint8Array> | null): Promise<Buffer> {
  assert.ok(body);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

const timeouts = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('keepAliveFetch and WireResponse over a real server', () => {
  let venue: Venue;
  let client: KeepAliveClient;
  let wire: typeof fetch;

  beforeEach(async () => {
    venue = await startVenue();
    client = new KeepAliveClient();
    wire = keepAliveFetch(client, { timeoutMs: 5000 });
  });

  afterEach(async () => {
    client.close();
    venue.server.closeAllConnections();
    venue.server.close();
    await once(venue.server, 'close');
  });

  it('gives status, ok and headers as fetch does (names case-insensitive)', async () => {
    const mine = await wire(`${venue.base}/headers`);
    const theirs = await fetch(`${venue.base}/headers`);
    assert.equal(mine.status, 201);
    assert.equal(mine.ok, true);
    for (const name of [
      'content-type',
      'Content-Type',
      'CONTENT-TYPE',
      'x-request-id',
      'X-Request-ID',
      'x-multi',
      'set-cookie',
      'x-missing',
    ]) {
      assert.equal(mine.headers.get(name), theirs.headers.get(name), name);
      assert.equal(mine.headers.has(name), theirs.headers.has(name), name);
    }
    assert.equal(mine.headers.get('X-REQUEST-ID'), 'req-42');
    assert.equal(mine.headers.get('x-missing'), null);
    assert.deepEqual(mine.headers.getSetCookie(), theirs.headers.getSetCookie());
    const names: string[] = [];
    mine.headers.forEach((_value, name) => names.push(name));
    assert.deepEqual(names, [...names].sort());
    assert.ok(names.includes('x-request-id') && names.every((n) => n === n.toLowerCase()));
    assert.throws(() => mine.headers.set('x', 'y'), TypeError);
    assert.deepEqual(await mine.json(), await theirs.json());

    for (const status of [200, 202, 299, 400, 401, 404, 418, 429, 500, 503]) {
      const a = await wire(`${venue.base}/status/${status}`);
      const b = await fetch(`${venue.base}/status/${status}`);
      assert.equal(a.status, status);
      assert.equal(a.ok, b.ok, `ok for ${status}`);
      assert.equal(await a.text(), await b.text());
    }
  });

  it('reads the bytes sent with text, json, arrayBuffer, blob and bytes', async () => {
    assert.equal(await (await wire(`${venue.base}/utf8`)).text(), UTF8_BODY);
    assert.deepEqual(await (await wire(`${venue.base}/json`)).json(), await (await fetch(`${venue.base}/json`)).json());
    const buffer = await (await wire(`${venue.base}/binary`)).arrayBuffer();
    assert.ok(buffer instanceof ArrayBuffer);
    assert.ok(Buffer.from(buffer).equals(BINARY_BODY));
    const blob = await (await wire(`${venue.base}/utf8`)).blob();
    assert.equal(blob.type, 'text/plain; charset=utf-8');
    assert.equal(await blob.text(), UTF8_BODY);
    const bytes = await (await wire(`${venue.base}/binary`)).bytes();
    assert.ok(bytes instanceof Uint8Array && Buffer.from(bytes).equals(BINARY_BODY));
    // A body that is not JSON rejects json() with a SyntaxError, as fetch's does.
    const notJson = await rejection((await wire(`${venue.base}/utf8`)).json());
    assert.ok(notJson instanceof SyntaxError);
  });

  it('reads a body once: every second read rejects (or throws) as fetch’s does', async () => {
    type Read = (r: Response) => Promise<unknown>;
    const reads: Record<string, Read> = {
      text: (r) => r.text(),
      json: (r) => r.json(),
      arrayBuffer: (r) => r.arrayBuffer(),
      blob: (r) => r.blob(),
      stream: (r) => readStream(r.body),
    };
    const url = `${venue.base}/json`;
    for (const [firstName, first] of Object.entries(reads)) {
      for (const [secondName, second] of Object.entries(reads)) {
        const label = `${firstName} then ${secondName}`;
        const mine = await wire(url);
        const theirs = await fetch(url);
        await first(mine);
        await first(theirs);
        assert.equal(mine.bodyUsed, theirs.bodyUsed, `${label}: bodyUsed`);
        const a = await settle(second(mine));
        const b = await settle(second(theirs));
        assert.equal(a.ok, b.ok, `${label}: fetch ${b.ok ? 'reads it again' : 'refuses'}`);
        if (!a.ok && !b.ok) {
          assert.ok(a.error instanceof TypeError, `${label}: ${String(a.error)}`);
          assert.ok(b.error instanceof TypeError);
          if (secondName !== 'stream') assert.equal(a.error.message, b.error.message, label);
        }
        assert.throws(() => mine.clone(), TypeError, `${label}: clone after use`);
      }
    }
  });

  it('treats a body stream handed out before a read as fetch does', async () => {
    const url = `${venue.base}/json`;
    const scenarios: Record<string, (r: Response) => Promise<unknown>> = {
      'body taken, text(), then the stream read': async (r) => {
        const body = r.body;
        await r.text();
        return readStream(body);
      },
      'stream locked, then text()': async (r) => {
        r.body?.getReader();
        return r.text();
      },
      'stream locked, then clone()': async (r) => {
        r.body?.getReader();
        return r.clone();
      },
      'body taken (not read), then text()': async (r) => {
        void r.body;
        return r.text();
      },
      'body taken (not read), then clone() and both read': async (r) => {
        void r.body;
        const copy = r.clone();
        return [await readStream(r.body), await copy.text()].map(String);
      },
    };
    for (const [label, scenario] of Object.entries(scenarios)) {
      const a = await settle(scenario(await wire(url)));
      const b = await settle(scenario(await fetch(url)));
      assert.equal(a.ok, b.ok, `${label}: fetch ${b.ok ? 'succeeds' : `fails (${String(!b.ok && b.error)})`}`);
      if (!a.ok) assert.ok(a.error instanceof TypeError, `${label}: ${String(a.error)}`);
      if (a.ok && b.ok && label.includes('both read')) assert.deepEqual(a.value, b.value);
    }
  });

  it('clone() gives a copy readable alongside the original', async () => {
    const original = await wire(`${venue.base}/utf8`);
    const copy = original.clone();
    const copyOfCopy = copy.clone();
    assert.equal(copy.status, original.status);
    assert.equal(copy.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await original.text(), UTF8_BODY);
    assert.equal(original.bodyUsed, true);
    assert.equal(copy.bodyUsed, false);
    assert.ok((await readStream(copy.body)).equals(Buffer.from(UTF8_BODY)));
    assert.equal(await copyOfCopy.text(), UTF8_BODY);
  });

  it('streams the body bytes, then counts the body as used', async () => {
    const res = await wire(`${venue.base}/binary`);
    assert.equal(res.bodyUsed, false);
    assert.equal(res.body, res.body, 'the same stream each time');
    assert.ok((await readStream(res.body)).equals(BINARY_BODY));
    assert.equal(res.bodyUsed, true);
    const second = await rejection(res.text());
    assert.ok(second instanceof TypeError);
  });

  it('gives a 204 (and a HEAD) a null body that reads as empty, as fetch does', async () => {
    const mine = await wire(`${venue.base}/empty`);
    const theirs = await fetch(`${venue.base}/empty`);
    assert.equal(mine.status, 204);
    assert.equal(mine.ok, true);
    assert.equal(mine.body, null);
    assert.equal(theirs.body, null);
    assert.equal(mine.headers.get('x-empty'), 'yes');
    assert.equal(await mine.text(), '');
    assert.equal((await (await wire(`${venue.base}/empty`)).arrayBuffer()).byteLength, 0);
    // fetch never counts a null body as used: it reads as empty every time.
    assert.equal(await theirs.text(), '');
    assert.deepEqual(await settle(mine.text()), await settle(theirs.text()));
    assert.equal(mine.bodyUsed, theirs.bodyUsed);

    const head = await wire(`${venue.base}/json`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, null);
    assert.equal(await head.text(), '');
  });

  it('rejects with RequestTimeoutError at the deadline when the server never answers, leaving no timer behind', async () => {
    // Mocha arms its own (ref'd) test timer once the test is under way: count from there.
    await new Promise((settled) => setImmediate(settled));
    const before = timeouts();
    const quick = keepAliveFetch(client, { timeoutMs: 150 });
    const arrived = nextArrival(venue);
    const started = performance.now();
    const pending = rejection(quick(`${venue.base}/never`));
    const socket = (await arrived).socket;
    // While the exchange is in flight the shared timer is armed but unref'd: it keeps nothing alive. (At most as many
    // as before: a timer an earlier test file left running may end meanwhile.)
    assert.ok(timeouts() <= before, `${timeouts()} ref'd timers, ${before} before`);
    const e = await pending;
    const elapsed = performance.now() - started;
    assert.ok(e instanceof RequestTimeoutError, String(e));
    assert.equal(e.name, 'TimeoutError');
    assert.equal(e.code, 'ETIMEDOUT');
    assert.equal(e.timeoutMs, 150);
    assert.ok(elapsed >= 145 && elapsed < 650, `rejected after ${elapsed.toFixed(0)} ms`);
    // The request is torn down, and nothing is left scheduled.
    if (!socket.destroyed) await once(socket, 'close');
    assert.ok(timeouts() <= before, `${timeouts()} ref'd timers, ${before} before`);
    // The client carries on, on a new connection.
    assert.equal(await (await wire(`${venue.base}/utf8`)).text(), UTF8_BODY);
    assert.equal(venue.connections, 2);
  });

  it('keeps each deadline when several share the timer', async () => {
    const short = keepAliveFetch(client, { timeoutMs: 80 });
    const long = keepAliveFetch(client, { timeoutMs: 300 });
    const started = performance.now();
    const at = (p: Promise<unknown>) => settle(p).then((s) => ({ s, ms: performance.now() - started }));
    // The long deadline arms the timer first; the short one re-arms it earlier; after the short one
    // expires the timer must be re-armed for the long one. A quick exchange finishing changes nothing.
    const [longNever, shortNever, quick, longSlow] = await Promise.all([
      at(long(`${venue.base}/never`)),
      at(short(`${venue.base}/never`)),
      at(short(`${venue.base}/slow/10`)),
      at(long(`${venue.base}/slow/150`)),
    ]);
    assert.ok(
      !shortNever.s.ok &&
        shortNever.s.error instanceof RequestTimeoutError &&
        shortNever.ms >= 75 &&
        shortNever.ms < 280,
      `short: ${shortNever.ms}`,
    );
    assert.ok(
      !longNever.s.ok && longNever.s.error instanceof RequestTimeoutError && longNever.ms >= 295 && longNever.ms < 800,
      `long: ${longNever.ms}`,
    );
    assert.ok(quick.s.ok, 'a reply within its deadline resolves');
    assert.ok(longSlow.s.ok, 'a reply after another exchange’s deadline but within its own resolves');
  });

  it('does not keep the process alive with the deadline timer (child process)', async function () {
    this.timeout(10_000);
    const httpModule = resolve(__dirname, '../../../src/brokers/http.js');
    const fetchModule = resolve(__dirname, '../../../src/brokers/keepAliveFetch.js');
    const script = `
      const http = require('node:http');
      const { KeepAliveClient, RequestTimeoutError } = require(${JSON.stringify(httpModule)});
      const { keepAliveFetch } = require(${JSON.stringify(fetchModule)});
      const server = http.createServer((req, res) => { if (req.url !== '/never') res.end('ok'); });
      server.listen(0, '127.0.0.1', async () => {
        const base = 'http://127.0.0.1:' + server.address().port;
        const client = new KeepAliveClient();
        const slow = keepAliveFetch(client, { timeoutMs: 60000 });
        const quick = keepAliveFetch(client, { timeoutMs: 50 });
        const first = await (await slow(base + '/')).text();
        const timedOut = await quick(base + '/never').then(() => false, (e) => e instanceof RequestTimeoutError);
        // Leaves the shared timer armed 60 s ahead, for an exchange already over.
        const second = await (await slow(base + '/')).text();
        server.close();
        process.stdout.write(JSON.stringify({ first, timedOut, second }));
      });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let reportedAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      reportedAt = performance.now();
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const killer = setTimeout(() => child.kill(), 5000);
    const [code] = (await once(child, 'exit')) as [number | null];
    clearTimeout(killer);
    const lingered = performance.now() - reportedAt;
    assert.equal(code, 0, `the child did not exit by itself (stderr: ${err})`);
    assert.deepEqual(JSON.parse(out), { first: 'ok', timedOut: true, second: 'ok' });
    assert.ok(lingered < 1000, `the child lingered ${lingered.toFixed(0)} ms after its last exchange`);
  });

  it('rejects with an AbortError when the signal is aborted before sending; nothing is sent', async () => {
    const controller = new AbortController();
    controller.abort();
    const mine = await rejection(wire(`${venue.base}/json`, { signal: controller.signal }));
    const theirs = await rejection(fetch(`${venue.base}/json`, { signal: controller.signal }));
    assert.equal(mine.name, 'AbortError');
    assert.equal(mine.name, theirs.name);
    assert.equal(mine.constructor, theirs.constructor);
    // An abort reason is what both reject with.
    const reason = new Error('operator stop');
    const withReason = AbortSignal.abort(reason);
    assert.equal(await rejection(wire(`${venue.base}/json`, { signal: withReason })), reason);
    assert.equal(await rejection(fetch(`${venue.base}/json`, { signal: withReason })), reason);
    assert.equal(venue.requests, 0);
    assert.equal(venue.connections, 0);
  });

  it('rejects with an AbortError when the signal is aborted in flight, and drops the request', async () => {
    const controller = new AbortController();
    const arrived = nextArrival(venue);
    const pending = rejection(wire(`${venue.base}/never`, { signal: controller.signal }));
    const socket = (await arrived).socket;
    const started = performance.now();
    controller.abort();
    const e = await pending;
    assert.equal(e.name, 'AbortError');
    assert.ok(performance.now() - started < 200);
    if (!socket.destroyed) await once(socket, 'close');
    // A signal's own deadline (AbortSignal.timeout) comes back as fetch gives it: a TimeoutError.
    const timedOut = await rejection(wire(`${venue.base}/never`, { signal: AbortSignal.timeout(30) }));
    assert.equal(timedOut.name, 'TimeoutError');
  });

  it('rejects a refused connection with TypeError("fetch failed") and the socket code on cause, as fetch does', async () => {
    const probe = createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const mine = await rejection(wire(`http://127.0.0.1:${port}/`));
    const theirs = await rejection(fetch(`http://127.0.0.1:${port}/`));
    assert.ok(mine instanceof TypeError);
    assert.equal(mine.message, theirs.message);
    assert.equal((mine.cause as { code?: string }).code, 'ECONNREFUSED');
    assert.equal((mine.cause as { code?: string }).code, (theirs.cause as { code?: string }).code);
  });

  it('rejects a reply cut off mid-body with ECONNRESET on cause', async () => {
    const e = await rejection(wire(`${venue.base}/reset`));
    assert.ok(e instanceof TypeError);
    assert.equal(e.message, 'fetch failed');
    assert.equal((e.cause as { code?: string }).code, 'ECONNRESET');
  });

  it('refuses a reply past its size cap (ECONNRESET on cause: no complete reply), and reads the next one', async () => {
    const capped = new KeepAliveClient(1024 * 1024);
    try {
      const e = await rejection(keepAliveFetch(capped, { timeoutMs: 5000 })(`${venue.base}/big`));
      assert.ok(e instanceof TypeError);
      assert.equal((e.cause as { code?: string }).code, 'ECONNRESET');
      assert.match(String((e.cause as Error).message), /larger than 1,048,576 bytes and was not read/);
      const direct = await rejection(capped.exchange(`${venue.base}/big`, { method: 'GET', headers: {} }));
      assert.ok(direct instanceof ReplyTooLargeError);
      const next = await capped.exchange(`${venue.base}/json`, { method: 'GET', headers: {} });
      assert.equal(next.status, 200);
      // The default cap reads a few MiB.
      assert.equal((await wire(`${venue.base}/big`)).status, 200);
    } finally {
      capped.close();
    }
  });

  it('sends sequential requests over one kept-alive connection', async () => {
    const paths = ['/json', '/empty', '/utf8', '/status/404', '/binary', '/echo'];
    for (let i = 0; i < 30; i++) {
      const path = paths[i % paths.length] as string;
      const res = await wire(`${venue.base}${path}`, i % 2 === 0 ? {} : { method: 'POST', body: `n=${i}` });
      await res.arrayBuffer();
    }
    assert.equal(venue.requests, 30);
    assert.equal(venue.connections, 1);
  });

  it('sends the method, headers (lower-cased, any HeadersInit form) and string or form bodies, to the rewritten URL', async () => {
    const rewriting = keepAliveFetch(client, {
      rewriteUrl: (u) => u.replace('https://paper-api.example.invalid', venue.base),
    });
    type Echo = { method: string; url: string; headers: Record<string, string>; body: string };
    const echo = async (res: Response): Promise<Echo> => (await res.json()) as Echo;

    const posted = await rewriting('https://paper-api.example.invalid/v2/orders?status=open', {
      method: 'POST',
      headers: { 'APCA-API-KEY-ID': 'key', 'Content-Type': 'application/json' },
      body: '{"qty":"1"}',
    });
    assert.equal(posted.url, `${venue.base}/v2/orders?status=open`);
    const p = await echo(posted);
    assert.equal(p.method, 'POST');
    assert.equal(p.url, '/v2/orders?status=open');
    assert.equal(p.headers['apca-api-key-id'], 'key');
    assert.equal(p.headers['content-length'], String(Buffer.byteLength('{"qty":"1"}')));
    assert.equal(p.body, '{"qty":"1"}');

    const form = await echo(
      await wire(`${venue.base}/echo`, {
        method: 'DELETE',
        headers: new Headers([['X-MBX-APIKEY', 'k']]),
        body: new URLSearchParams({ a: '1', b: 'é' }),
      }),
    );
    assert.equal(form.method, 'DELETE');
    assert.equal(form.headers['x-mbx-apikey'], 'k');
    assert.equal(form.headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8');
    assert.equal(form.body, 'a=1&b=%C3%A9');

    const pairs = await echo(
      await wire(new URL(`${venue.base}/echo?x=1`), {
        headers: [
          ['X-Twice', 'a'],
          ['x-twice', 'b'],
        ],
      }),
    );
    assert.equal(pairs.method, 'GET');
    assert.equal(pairs.headers['x-twice'], 'a, b');

    // A body it cannot send is refused, not dropped.
    assert.ok(
      (await rejection(wire(`${venue.base}/echo`, { method: 'POST', body: new Uint8Array([1]) }))) instanceof TypeError,
    );
    assert.equal(venue.connections, 1);
  });
});
