import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
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

/** One request on `agent`'s kept-alive connection (HTTPS, or plain HTTP for the metrics port). */
function requestOn(agent: Agent | HttpAgent, port: number, path: string, json?: unknown): Promise<IncomingMessage & { text: string; connection: Socket }> {
  const send = agent instanceof Agent ? httpsRequest : httpRequest;
  const payload = json === undefined ? undefined : JSON.stringify(json);
  const headers = payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) };
  return new Promise((resolve, reject) => {
    const req = send({ host: 'localhost', port, path, agent, method: payload === undefined ? 'GET' : 'POST', headers }, (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      // Taken now: once the answer has been read, the agent takes the socket back.
      const connection = res.socket;
      res.on('end', () => resolve(Object.assign(res, { text, connection })));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

describe('SIGTERM', () => {
  it('stops accepting, keeps idle kept-alive connections open and answers on them with Connection: close, finishes the request in flight, and exits 0', async () => {
    const server = await startChildServer(['--dev-certs', '--port', '0', '--metrics-port', '0', '--cert-dir', certs.path, '--shutdown-grace', '10']);
    const ca = readText(join(certs.path, 'ca.crt'));
    const metricsPort = server.metricsPort ?? 0;
    // Kept-alive connections that sit idle when the signal comes, on both listeners.
    const agent = new Agent({ keepAlive: true, ca });
    const metricsAgent = new HttpAgent({ keepAlive: true });
    const idle = await requestOn(agent, server.port, '/healthz');
    const idleMetrics = await requestOn(metricsAgent, metricsPort, '/healthz');
    const verdictAgent = new Agent({ keepAlive: true, ca });
    const idleVerdict = await requestOn(verdictAgent, server.port, '/healthz');

    const review = halfSentReview(server.port, ca);
    await eventually(async () => ((await inFlight(server.port, ca)) === 1 ? true : undefined));
    const started = Date.now();
    server.process.kill('SIGTERM');
    await server.waitForLog((line) => line.event === 'shutdown');

    await expect(httpsCall(server.port, { ca, path: '/healthz' })).rejects.toThrow(/ECONNREFUSED/);
    // The client may be writing on an idle connection as the shutdown begins: the server did not
    // close it, answers on it (readiness already failing), and asks the client to drop it.
    for (const [before, after] of [
      [idle, await requestOn(agent, server.port, '/readyz')],
      [idleMetrics, await requestOn(metricsAgent, metricsPort, '/readyz')],
    ] as const) {
      expect(after.connection).toBe(before.connection);
      expect(after.statusCode).toBe(503);
      expect(after.text).toBe('not ready: shutting down\n');
      expect(after.headers.connection).toBe('close');
    }
    // The verdict API too: its answer in full, on the connection the reconciler kept.
    const verdict = await requestOn(verdictAgent, server.port, '/v1/verdict', readExample('invalid/credential-over-plaintext.yaml'));
    expect(verdict.connection).toBe(idleVerdict.connection);
    expect(verdict.statusCode).toBe(200);
    expect(verdict.headers.connection).toBe('close');
    expect(JSON.parse(verdict.text).allowed).toBe(false);
    review.finish();
    const answer = await review.response;
    expect(answer.statusCode).toBe(200);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.text).response.allowed).toBe(false);

    // Every connection was dropped by its client after its answer: no need to wait for the grace period.
    expect(await server.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(server.logs().at(-1)).toMatchObject({ event: 'stopped' });
    for (const each of [agent, metricsAgent, verdictAgent]) each.destroy();
  });

  it('closes a kept-alive connection left idle through the drain only when the grace period ends', async () => {
    const server = await startChildServer(['--dev-certs', '--port', '0', '--cert-dir', certs.path, '--shutdown-grace', '2']);
    const agent = new Agent({ keepAlive: true, ca: readText(join(certs.path, 'ca.crt')) });
    const idleSocket = (await requestOn(agent, server.port, '/healthz')).connection;
    const idleClosed = new Promise<number>((resolve) => idleSocket.once('close', () => resolve(Date.now())));
    const started = Date.now();
    server.process.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const closedAfter = (await idleClosed) - started;
    expect(closedAfter).toBeGreaterThanOrEqual(1900);
    expect(closedAfter).toBeLessThan(6000);
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
