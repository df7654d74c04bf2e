import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
    globalSetup: ['./scripts/test-global-setup.ts'],
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
