import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Browser-side units run in happy-dom; Node-side files (collector, report) say `// @vitest-environment node`.
    environment: 'happy-dom',
    restoreMocks: true,
  },
});
