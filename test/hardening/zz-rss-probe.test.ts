import { it } from 'vitest';
import { admissionReview } from '../admission/reviews.js';
import { readExample } from '../fixtures.js';
import { startHardeningServer, sleep } from './harness.js';
import { startLoad } from './load.js';
it('probe', async () => {
  const server = await startHardeningServer();
  const body = JSON.stringify(admissionReview(readExample('invalid/credential-over-plaintext.yaml')));
  const load = startLoad({ concurrency: 4, maxDurationMs: 60_000, send: async () => ((await server.call({ body })).status === 200 ? undefined : 'x') });
  for (let i = 0; i < 12; i++) {
    await sleep(5000);
    const m = await server.metrics();
    const v = (n: string) => Math.round(Number(m.split('\n').find((l) => l.startsWith(n + ' '))?.split(' ')[1]) / 1048576);
    console.log(i, load.answered(), 'rss', v('process_resident_memory_bytes'), 'heapUsed', v('nodejs_heap_size_used_bytes'), 'heapTotal', v('nodejs_heap_size_total_bytes'), 'external', v('nodejs_external_memory_bytes'));
  }
  await load.stop();
  await server.stop();
}, 120_000);
