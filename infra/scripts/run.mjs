#!/usr/bin/env node
// Entry point of the README's commands on a machine with only Node 20 and npm:
//   npm start      → install, build, migrate the embedded database, load demo data, serve the API
//   npm test       → install, run every test of every package (PGlite; PostgreSQL when DATABASE_URL is set)
//   npm run houfu -- <command>  → the command line (migrate, seed-demo, token, …)
// Plain Node on purpose: it must run before any dependency is installed. Run from package.json.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PNPM_VERSION = '10.34.8';
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  TURBO_NO_UPDATE_NOTIFIER: '1',
};

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

/** Setup steps write their progress to stderr, so stdout carries only the command's own output. */
function must(command, args) {
  const status = run(command, args, { stdio: ['inherit', process.stderr, 'inherit'] });
  if (status !== 0) process.exit(status);
}

function pnpmVersion() {
  const r = spawnSync('pnpm', ['--version'], { cwd: root, encoding: 'utf8', env });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** pnpm through npm (corepack's signature check fails against the registry mirror). */
function ensurePnpm() {
  if (pnpmVersion() === PNPM_VERSION) return ['pnpm'];
  if (
    run('npm', ['install', '--global', '--no-fund', '--no-audit', `pnpm@${PNPM_VERSION}`], {
      stdio: ['inherit', process.stderr, 'inherit'],
    }) === 0 &&
    pnpmVersion() === PNPM_VERSION
  ) {
    return ['pnpm'];
  }
  console.error(`could not install pnpm ${PNPM_VERSION} globally; using npx`);
  return ['npx', '--yes', `pnpm@${PNPM_VERSION}`];
}

const [task, ...rest] = process.argv.slice(2);
const [pnpmCmd, ...pnpmPrefix] = ensurePnpm();
const pnpm = (...args) => must(pnpmCmd, [...pnpmPrefix, ...args]);

pnpm('install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent');

const cli = join(root, 'apps/cli/dist/houfu.mjs');
const buildCli = () =>
  pnpm('exec', 'turbo', 'run', 'build', '--filter=@houfu/cli', '--output-logs=errors-only');

switch (task) {
  case 'start':
    buildCli();
    process.exit(run(process.execPath, ['--enable-source-maps', cli, 'dev', ...rest]));
    break;
  case 'houfu':
    buildCli();
    process.exit(run(process.execPath, ['--enable-source-maps', cli, ...rest]));
    break;
  case 'test':
    process.exit(
      run(pnpmCmd, [
        ...pnpmPrefix,
        'exec',
        'vitest',
        'run',
        '--config',
        'infra/vitest/vitest.config.ts',
        ...rest,
      ]),
    );
    break;
  default:
    console.error('usage: node infra/scripts/run.mjs start|test|houfu [args…]');
    process.exit(2);
}
