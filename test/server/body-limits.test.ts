import { request as httpRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../src/server/app.js';
import { admissionReview } from '../admission/reviews.js';
import { remote } from '../fixtures.js';
import { APPLICATIONS, listening, metricValue, testApp, type TestApp } from './test-app.js';

interface Answer {
  /** 0 when the connection was closed before the answer could be read. */
  readonly status: number;
  readonly body: string;
  readonly connection: string | undefined;
  /** How many body bytes had been written when the answer (or the closed connection) came. */
  readonly sent: number;
}

/** Sends headers, then the body in chunks from `chunks` until the answer arrives or the connection closes. */
function send(port: number, headers: Record<string, string | number>, chunks: Iterable<Buffer>): Promise<Answer> {
  return new Promise((resolve) => {
    let sent = 0;
    let answered = false;
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/validate', headers: { 'Content-Type': 'application/json', ...headers } }, (res: IncomingMessage) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection, sent }));
    });
    // A server that stops reading closes the connection under a client still writing; the
    // reset may reach the client before the answer does.
    req.on('error', () => {
      if (answered) return;
      answered = true;
      resolve({ status: 0, body: '', connection: undefined, sent });
    });
    const iterator = chunks[Symbol.iterator]();
    const writeNext = (): void => {
      if (answered) return;
      const next = iterator.next();
      if (next.done) return void req.end();
      sent += next.value.length;
      if (req.write(next.value)) setImmediate(writeNext);
      else req.once('drain', writeNext);
    };
    req.flushHeaders();
    writeNext();
  });
}

function* repeat(chunk: Buffer, times: number): Generator<Buffer> {
  for (let i = 0; i < times; i++) yield chunk;
}

describe.each(APPLICATIONS)('body limits (%s)', (_name, application) => {
  /** Over a real socket: supertest cannot announce a length it does not send. */
  let socket: Awaited<ReturnType<typeof listening>>;
  let port: number;
  let app: TestApp;

  beforeAll(async () => {
    app = testApp(undefined, undefined, application);
    socket = await listening(app.app);
    port = socket.port;
  });

  afterAll(() => socket.close());

  it('refuses a body announced as too large with 413 before it is sent, and closes the connection', async () => {
    // Announces 64 MiB but sends only 1 KiB and then waits: the answer must come anyway.
    const answer = await send(port, { 'Content-Length': 64 * 1024 * 1024 }, [Buffer.alloc(1024, 0x20)]);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ error: 'the body is larger than 7 MiB, the most a legitimate AdmissionReview needs' });
    expect(answer.connection).toBe('close');
    expect(answer.sent).toBe(1024);
  });

  it('stops reading a chunked body at the limit and answers 413', async () => {
    const before = metricValue((await app.metrics.exposition()).body, 'mcpserver_webhook_rejected_requests_total{code="413"}') ?? 0;
    const chunk = Buffer.alloc(256 * 1024, 0x20);
    const answer = await send(port, { 'Transfer-Encoding': 'chunked' }, repeat(chunk, 256));
    expect([0, 413]).toContain(answer.status);
    expect(metricValue((await app.metrics.exposition()).body, 'mcpserver_webhook_rejected_requests_total{code="413"}')).toBe(before + 1);
    // Writes run ahead of the server by the socket buffers (several MiB), but a server that read
    // the whole body off before answering would take all 64 MiB.
    expect(answer.sent).toBeLessThan(32 * 1024 * 1024);
  });

  it('accepts the largest legitimate review: an UPDATE of a 3 MiB object', async () => {
    const big = remote({ description: 'x'.repeat(3 * 1024 * 1024) });
    const body = Buffer.from(JSON.stringify(admissionReview(big, { operation: 'UPDATE', oldObject: big })));
    expect(body.length).toBeGreaterThan(6 * 1024 * 1024);
    expect(body.length).toBeLessThan(MAX_BODY_BYTES);
    const answer = await send(port, { 'Content-Length': body.length }, [body]);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).response.uid).toBeTruthy();
  });
});
