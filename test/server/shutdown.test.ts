import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { admissionReview } from '../admission/reviews.js';
import { readExample } from '../fixtures.js';
import { eventually, httpsCall, readText, startChildServer, temporaryDirectory } from './child-server.js';
import { metricValue } from './test-app.js';

const certs = temporaryDirectory('shutdown');
afterAll(() => certs.remove());

const body = Buffer.from(JSON.stringify(admissionReview(readExample('invalid/credential-over-plaintext.yaml'))));

/**
 * A review whose body is only half sent: the request stays in flight until `finish` is called.
 * Its connection is kept alive, as the API server keeps its connections.
 */
function halfSentReview(port: number, ca: string): { response: Promise<IncomingMessage & { text: string }>; finish(): void; failed: Promise<Error> } {
  let fail: (error: Error) => void = () => undefined;
  const failed = new Promise<Error>((resolve) => (fail = resolve));
  const agent = new Agent({ keepAlive: true, ca });
  const req = httpsRequest({ host: 'localhost', port, method: 'POST', path: '/validate', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': body.length } });
  const response = new Promise<IncomingMessage & { text: string }>((resolve) => {
    req.on('response', (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(Object.assign(res, { text })));
    });
  });
  req.on('error', fail);
  req.write(body.subarray(0, 100));
  return { response, failed, finish: () => req.end(body.subarray(100)) };
}

async function inFlight(port: number, ca: string): Promise<number | undefined> {
  return metricValue((await httpsCall(port, { ca, path: '/metrics' })).body, 'mcpserver_webhook_in_flight_requests');
}

describe('SIGTERM', () => {
  it('stops accepting, finishes the request in flight, closes kept-alive connections and exits 0', async () => {
    const server = await startChildServer(['--dev-certs', '--port', '0', '--cert-dir', certs.path, '--shutdown-grace', '10']);
    const ca = readText(join(certs.path, 'ca.crt'));
    // A kept-alive connection that sits idle through the shutdown.
    const agent = new Agent({ keepAlive: true, ca });
    const idle = await new Promise<IncomingMessage>((resolve) => httpsRequest({ host: 'localhost', port: server.port, path: '/healthz', agent }, resolve).end());
    idle.resume();
    const idleSocket = idle.socket;
    const idleClosed = new Promise<void>((resolve) => idleSocket.once('close', () => resolve()));

    const review = halfSentReview(server.port, ca);
    await eventually(async () => ((await inFlight(server.port, ca)) === 1 ? true : undefined));
    const started = Date.now();
    server.process.kill('SIGTERM');
    await server.waitForLog((line) => line.event === 'shutdown');

    await idleClosed;
    await expect(httpsCall(server.port, { ca, path: '/healthz' })).rejects.toThrow(/ECONNREFUSED/);
    review.finish();
    const answer = await review.response;
    expect(answer.statusCode).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.text).response.allowed).toBe(false);

    expect(await server.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(server.logs().at(-1)).toMatchObject({ event: 'stopped' });
    agent.destroy();
  });

  it('cuts a request that does not finish within the grace period, and still exits 0', async () => {
    const server = await startChildServer(['--dev-certs', '--port', '0', '--cert-dir', certs.path, '--shutdown-grace', '1']);
    const ca = readText(join(certs.path, 'ca.crt'));
    const stuck = halfSentReview(server.port, ca);
    await eventually(async () => ((await inFlight(server.port, ca)) === 1 ? true : undefined));
    const started = Date.now();
    server.process.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(5000);
    expect((await stuck.failed).message).toMatch(/socket hang up|ECONNRESET/);
  });

  it('stops on SIGINT too', async () => {
    const server = await startChildServer(['--dev-certs', '--port', '0', '--cert-dir', certs.path]);
    // Node may take a signal sent within moments of start-up as fatal; a round trip lets it settle.
    expect((await httpsCall(server.port, { ca: readText(join(certs.path, 'ca.crt')), path: '/healthz' })).status).toBe(200);
    server.process.kill('SIGINT');
    expect(await server.exited).toBe(0);
    expect(server.logs().find((line) => line.event === 'shutdown')?.signal).toBe('SIGINT');
  });
});
