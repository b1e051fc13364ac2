import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { admissionReview } from '../admission/reviews.js';
import { remote } from '../fixtures.js';
import { APPLICATIONS, listening, metricValue, testApp as makeTestApp, type TestApp } from './test-app.js';

describe.each(APPLICATIONS)('routing (%s)', (_name, application) => {
  const testApp = (): TestApp => makeTestApp(undefined, undefined, application);

  it('answers HEAD on the operations endpoints like GET, without a body', async () => {
    const { app } = testApp();
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const res = await request(app).head(path);
      expect([path, res.status, res.text ?? '']).toEqual([path, 200, '']);
      expect(Number(res.headers['content-length'])).toBeGreaterThan(0);
    }
  });

  it('matches paths exactly, with the query string set aside', async () => {
    const { app } = testApp();
    const body = JSON.stringify(admissionReview(remote()));
    const post = (path: string) => request(app).post(path).set('Content-Type', 'application/json').send(body);
    expect((await post('/validate?timeout=10s')).status).toBe(200);
    for (const path of ['/validate/', '/Validate', '/validate/x', '//validate', '/__proto__', '/constructor']) {
      const res = await post(path);
      expect([path, res.status]).toEqual([path, 404]);
      expect(res.body.error).toMatch(/^not found/);
    }
  });

  it('answers other methods on the operations endpoints with 404, and on /validate with 405', async () => {
    const { app } = testApp();
    expect((await request(app).post('/healthz')).status).toBe(404);
    expect((await request(app).put('/validate')).status).toBe(405);
    expect((await request(app).delete('/v1/verdict')).headers.allow).toBe('POST');
  });

  it('closes the connection of every answer once shutdown begins, a 404 too', async () => {
    const { app, readiness } = testApp();
    const get = (path: string) => request(app).get(path).set('Connection', 'keep-alive');
    expect((await get('/healthz')).headers.connection).toBe('keep-alive');
    readiness.drain();
    for (const path of ['/healthz', '/nowhere', '/validate']) expect([path, (await get(path)).headers.connection]).toEqual([path, 'close']);
  });

  it('sends headers and body in one piece with the length of the body in bytes', async () => {
    const { app } = testApp();
    const res = await request(app).post('/validate').set('Content-Type', 'application/json').send(JSON.stringify(admissionReview(remote({ description: 'café ☕' }))));
    expect(Number(res.headers['content-length'])).toBe(Buffer.byteLength(res.text));
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  });
});

describe.each(APPLICATIONS)('a client that leaves before its body is whole (%s)', (_name, application) => {
  let socket: Awaited<ReturnType<typeof listening>>;
  let app: TestApp;

  beforeAll(async () => {
    app = makeTestApp(undefined, undefined, application);
    socket = await listening(app.app);
  });

  afterAll(() => socket.close());

  const inFlight = async () => metricValue((await app.metrics.exposition()).body, 'mcpserver_webhook_in_flight_requests');

  it('is no longer counted in flight, gets no answer, and the next request is served', async () => {
    const req = httpRequest({ host: '127.0.0.1', port: socket.port, method: 'POST', path: '/validate', headers: { 'Content-Type': 'application/json', 'Content-Length': 4096 } });
    req.on('error', () => {});
    req.write('{"apiVersion": "admission.k8s.io/v1", ');
    await expect.poll(inFlight).toBe(1);
    req.destroy();
    await expect.poll(inFlight).toBe(0);
    const next = await request(`http://127.0.0.1:${socket.port}`).post('/validate').set('Content-Type', 'application/json').send(JSON.stringify(admissionReview(remote())));
    expect(next.status).toBe(200);
    expect(app.logs().filter((line) => line.event === 'internal-error')).toEqual([]);
  });
});
