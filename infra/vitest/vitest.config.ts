import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** The whole suite: every package and app is a project; the shared test database is built once. */
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    projects: ['packages/*', 'apps/*'],
    globalSetup: ['./infra/vitest/test-global-setup.ts'],
    reporters: ['default', './infra/vitest/summary-reporter.ts'],
  },
});
