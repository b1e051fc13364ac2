import { describe, expect, it } from 'vitest';
import request from 'supertest';
import { Policy } from '../../src/engine/index.js';
import { createOperationsApp } from '../../src/server/app.js';
import { admissionReview } from '../admission/reviews.js';
import { remote } from '../fixtures.js';
import { APPLICATIONS, metricValue, testApp } from './test-app.js';

/** A fault of ours: the policy cannot be had, with words that must stay in the log. */
function brokenPolicy(): () => Policy {
  return () => {
    throw new Error('policy store unreadable at /secret/place');
  };
}

describe.each(APPLICATIONS)('a fault of ours (%s)', (_name, application) => {
  it.each([
    ['/validate', admissionReview(remote())],
    ['/v1/verdict', remote()],
  ])('on POST %s is a 500 without detail for the client, and the stack for operators', async (path, body) => {
    const { app, logs, metrics } = testApp(brokenPolicy(), undefined, application);
    const res = await request(app).post(path).set('Content-Type', 'application/json').send(JSON.stringify(body));
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: 'internal error' });
    expect(res.text).not.toContain('secret');
    const [line, ...others] = logs().filter((entry) => entry.event === 'internal-error');
    expect(others).toEqual([]);
    expect(line).toMatchObject({ level: 'error', error: { type: 'Error', message: 'policy store unreadable at /secret/place', stack: expect.stringContaining('at ') } });
    expect(metricValue((await metrics.exposition()).body, 'mcpserver_webhook_in_flight_requests')).toBe(0);
  });

  it('leaves the application serving the next request', async () => {
    let broken = true;
    const { app } = testApp(() => (broken ? brokenPolicy()() : Policy.builtIn()), undefined, application);
    const post = () => request(app).post('/validate').set('Content-Type', 'application/json').send(JSON.stringify(admissionReview(remote())));
    expect((await post()).status).toBe(500);
    broken = false;
    expect((await post()).body.response.allowed).toBe(true);
  });
});

describe('the --metrics-port application', () => {
  const { app } = testApp(undefined, undefined, createOperationsApp);

  it('serves the three operations endpoints, HEAD too', async () => {
    expect((await request(app).get('/healthz')).text).toBe('ok\n');
    expect((await request(app).get('/readyz')).text).toBe('ok\n');
    expect((await request(app).get('/metrics')).text).toContain('mcpserver_webhook_admission_requests_total');
    expect((await request(app).head('/metrics')).status).toBe(200);
  });

  it('answers anything else with the JSON 404, reviews included', async () => {
    for (const path of ['/validate', '/v1/verdict', '/nowhere']) {
      const res = await request(app).post(path).set('Content-Type', 'application/json').send('{}');
      expect([path, res.status, res.headers['content-type']]).toEqual([path, 404, 'application/json; charset=utf-8']);
      expect(res.body.error).toMatch(/^not found/);
    }
  });
});
