import { defineConfig } from 'vitest/config';

/**
 * The end-to-end suite (npm run test:e2e): a real etcd and kube-apiserver per file. Files run one
 * after another, each in a process of its own (forks), so that two control planes never share
 * the machine's two cores and a process that ends kills what its file started.
 */
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 180_000,
  },
});
