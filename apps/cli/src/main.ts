import {
  type AppConfig,
  createApiClient,
  type KeyFile,
  loadConfig,
  newKey,
  openApiDocument,
  readKeyFile,
  revokeClient,
  signUserToken,
  startServer,
  tokenSettingsFrom,
  writeKeyFile,
} from '@houfu/api';
import {
  auditedDivisions,
  createSealer,
  type Database,
  loadCountyLocalities,
  loadDivisionDictionary,
  migrate,
  verifyAuditChain,
  withDivision,
} from '@houfu/db';
import { integratorScopes, isDivisionCode, NATION, parseScopes, roleSchema, scopeOf } from '@houfu/domain';
import { Command, InvalidArgumentError } from 'commander';
import { DEMO_COUNTIES, devTokens, seedDemoPayments, seedDemoRegistry } from './demo.js';
import {
  cliLogger,
  dictionaryLoaded,
  keyFilePath,
  loadDataKey,
  loadKeys,
  openAdminDatabase,
  openApiDatabase,
  usesPostgres,
} from './runtime.js';

const SYSTEM_ACTOR = { sub: 'system:cli', kind: 'system' as const, division: NATION };

function divisionOption(value: string): number {
  const n = Number(value);
  if (!isDivisionCode(n)) throw new InvalidArgumentError('not a GB/T 2260 division code');
  return n;
}

async function withAdmin<T>(config: AppConfig, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openAdminDatabase(config);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

async function prepare(db: Database, config: AppConfig): Promise<void> {
  const applied = await migrate(db, { apiPassword: config.HOUFU_API_PASSWORD });
  const dictionary = await loadDivisionDictionary(db);
  console.error(
    `migrated (${applied.length ? applied.join(', ') : 'up to date'}); ${dictionary.divisions} divisions in the dictionary (${dictionary.added} added, ${dictionary.changed} changed)`,
  );
}

async function seedDemo(db: Database, config: AppConfig, onlyIfEmpty: boolean): Promise<void> {
  for (const l of await loadCountyLocalities(db, DEMO_COUNTIES, { onlyIfEmpty })) {
    console.error(
      `county ${l.county}: ${l.townships} townships, ${l.villages} villages (${l.inserted} added)`,
    );
  }
  // The demo registry is sealed with the data key the server will use (dev creates it).
  const sealer = createSealer(await loadDataKey(config, { create: true }));
  const registry = await seedDemoRegistry(db, sealer, cliLogger(config));
  for (const r of registry) {
    console.error(`county ${r.county}: ${r.imported} registered persons imported`);
  }
  const seeded = registry.map((r) => r.county);
  for (const b of await seedDemoPayments(db, sealer, cliLogger(config), seeded)) {
    console.error(`county ${b.county}: payment batch ${b.batchNo} ${b.status}, ${b.lines} lines`);
  }
}

/**
 * Serves the API. `dev` first migrates and seeds through the administrative connection; the server
 * itself only ever holds the API role's connection (on PostgreSQL) or the embedded database.
 */
async function serve(config: AppConfig, options: { demo: boolean }): Promise<void> {
  const logger = cliLogger(config);
  let db: Database | undefined;
  if (options.demo) {
    const admin = await openAdminDatabase(config);
    await prepare(admin, config);
    await seedDemo(admin, config, true);
    if (usesPostgres(config)) await admin.close();
    else db = admin;
  }
  db ??= await openApiDatabase(config);
  if (!(await dictionaryLoaded(db))) {
    await db.close();
    throw new Error('the database is not migrated: run `houfu migrate` first');
  }
  const keys = await loadKeys(config, { create: options.demo });
  const sealer = createSealer(await loadDataKey(config, { create: options.demo }));
  const server = await startServer(config, db, keys.store, sealer, logger);
  if (options.demo) {
    const ttl = config.HOUFU_MAX_TOKEN_AGE;
    const tokens = await devTokens(db, keys.store, tokenSettingsFrom(config), ttl);
    const lines = tokens.map(
      (t) =>
        `  ${t.role.padEnd(16)} ${String(t.division).padStart(6, '0')} ${t.divisionName}（${t.label}）\n  ${t.token}\n`,
    );
    process.stdout.write(
      `\n后扶 Houfu API on ${server.url}  (docs: ${server.url}/docs, OpenAPI: ${server.url}/openapi.json)\n` +
        `Database: ${db.kind === 'pglite' ? `embedded PGlite in ${config.HOUFU_DATA_DIR}/pglite` : 'PostgreSQL, as houfu_api'}\n` +
        `Dev tokens, valid ${ttl / 3600} h — send as "Authorization: Bearer <token>":\n\n${lines.join('\n')}\n` +
        `Try: curl -H "Authorization: Bearer $TOKEN" ${server.url}/v1/me\n`,
    );
  }
  const stop = async (signal: string) => {
    logger.info({ signal }, 'stopping');
    await server.close();
    await db.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

const program = new Command('houfu')
  .description('后扶 Houfu: post-relocation support platform — command line')
  .showHelpAfterError();

program
  .command('dev')
  .description(
    'migrate, load demo data when missing, print dev tokens and serve the API (what `npm start` runs)',
  )
  .action(() => serve(loadConfig(), { demo: true }));

program
  .command('serve')
  .description('serve the API (the database must be migrated)')
  .action(() => serve(loadConfig(), { demo: false }));

program
  .command('migrate')
  .description('apply SQL migrations (roles, tables, RLS, grants) and load the division dictionary')
  .action(() => {
    const config = loadConfig();
    return withAdmin(config, (db) => prepare(db, config));
  });

program
  .command('seed-demo')
  .description(
    'load the townships, villages and a synthetic registry (about 1,000 persons each, through the import pipeline) of the demo counties 420581 宜都市, 420582 当阳市, 420583 枝江市',
  )
  .action(() => {
    const config = loadConfig();
    return withAdmin(config, (db) => seedDemo(db, config, false));
  });

program
  .command('token')
  .description('print a signed dev access token (ES256, from the local key file)')
  .requiredOption('--division <code>', 'GB/T 2260 division code', divisionOption)
  .requiredOption('--role <role...>', 'one or more roles')
  .option('--sub <subject>', 'token subject', 'dev:cli')
  .option('--name <name>', 'display name')
  .option('--ttl <seconds>', 'lifetime in seconds', (v) => Number(v), 3600)
  .action(async (o: { division: number; role: string[]; sub: string; name?: string; ttl: number }) => {
    const config = loadConfig();
    const roles = o.role.map((r) => {
      const parsed = roleSchema.safeParse(r);
      if (!parsed.success) throw new InvalidArgumentError(`unknown role ${r}`);
      return parsed.data;
    });
    const ttl = Math.min(o.ttl, config.HOUFU_MAX_TOKEN_AGE);
    const { store } = await loadKeys(config, { create: true });
    process.stdout.write(
      `${await signUserToken(store, tokenSettingsFrom(config), { sub: o.sub, division: o.division, roles, name: o.name, ttlSeconds: ttl })}\n`,
    );
  });

const client = program
  .command('client')
  .description('integrator clients (banks, statistics and audit systems)');
client
  .command('create')
  .description('register a client; prints its id and secret once (the secret is stored only as a hash)')
  .requiredOption('--division <code>', 'the division whose data the client may read', divisionOption)
  .requiredOption('--name <name>', 'e.g. 工商银行宜昌分行')
  .option(
    '--scopes <scopes>',
    `space-separated, from: ${integratorScopes.join(' ')}`,
    'divisions:read localities:read',
  )
  .action(async (o: { division: number; name: string; scopes: string }) => {
    const scopes = parseScopes(o.scopes);
    const outside = scopes.filter((s) => !integratorScopes.includes(s));
    if (outside.length) throw new InvalidArgumentError(`not an integrator scope: ${outside.join(', ')}`);
    const created = await withAdmin(loadConfig(), (db) =>
      createApiClient(db, SYSTEM_ACTOR, { division: o.division, name: o.name, scopes }),
    );
    process.stdout.write(`client_id=${created.clientId}\nclient_secret=${created.secret}\n`);
  });
client
  .command('revoke <clientId>')
  .description('revoke a client; its tokens stop being issued at once')
  .action(async (clientId: string) => {
    const ok = await withAdmin(loadConfig(), (db) => revokeClient(db, SYSTEM_ACTOR, clientId));
    if (!ok) throw new InvalidArgumentError(`no client ${clientId}`);
    process.stdout.write(`revoked ${clientId}\n`);
  });

program
  .command('localities')
  .description('load the townships and villages of counties from the dictionary (on demand)')
  .requiredOption('--county <code...>', 'county codes', (v: string, prev: number[] = []) => [
    ...prev,
    divisionOption(v),
  ])
  .action((o: { county: number[] }) =>
    withAdmin(loadConfig(), async (db) => {
      for (const l of await loadCountyLocalities(db, o.county)) {
        process.stdout.write(
          `${l.county}: ${l.townships} townships, ${l.villages} villages (${l.inserted} added)\n`,
        );
      }
    }),
  );

program
  .command('audit-verify')
  .description('recompute the audit hash chains (exit code 1 if any is broken)')
  .option('--division <code>', 'one division (default: every division with records)', divisionOption)
  .action((o: { division?: number }) =>
    withAdmin(loadConfig(), async (db) => {
      const divisions =
        o.division !== undefined
          ? [o.division]
          : await withDivision(db, NATION, (tx) => auditedDivisions(tx, scopeOf(NATION)));
      let broken = 0;
      for (const d of divisions) {
        const r = await withDivision(db, d, (tx) => verifyAuditChain(tx, d));
        if (!r.valid) broken += 1;
        process.stdout.write(
          `${d}: ${r.events} events, ${r.valid ? 'valid' : `BROKEN at seq ${r.brokenAt?.seq} (${r.brokenAt?.reason})`}\n`,
        );
      }
      if (broken > 0) process.exitCode = 1;
    }),
  );

async function keyFileHolding(kid: string): Promise<{ path: string; file: KeyFile }> {
  const path = keyFilePath(loadConfig());
  const file = await readKeyFile(path);
  if (!file?.keys.some((k) => k.kid === kid)) throw new InvalidArgumentError(`no key ${kid}`);
  return { path, file };
}

const keys = program.command('keys').description('signing keys (local JWKS) and their rotation');
keys
  .command('list')
  .description('list keys; * marks the one that signs')
  .action(async () => {
    const file = await readKeyFile(keyFilePath(loadConfig()));
    for (const k of file?.keys ?? [])
      process.stdout.write(`${k.kid === file?.active ? '*' : ' '} ${k.kid}\n`);
  });
keys
  .command('add')
  .description('publish a new key (verifies at once, signs only after `keys activate`)')
  .action(async () => {
    const path = keyFilePath(loadConfig());
    const file = await readKeyFile(path);
    const key = await newKey();
    const next: KeyFile = file ? { ...file, keys: [...file.keys, key] } : { active: key.kid, keys: [key] };
    await writeKeyFile(path, next);
    process.stdout.write(`${key.kid}\n`);
  });
keys
  .command('activate <kid>')
  .description('sign new tokens with this key (restart the servers after every server has it)')
  .action(async (kid: string) => {
    const { path, file } = await keyFileHolding(kid);
    await writeKeyFile(path, { ...file, active: kid });
  });
keys
  .command('retire <kid>')
  .description('remove a key once the longest token it signed has expired')
  .action(async (kid: string) => {
    const { path, file } = await keyFileHolding(kid);
    if (file.active === kid)
      throw new InvalidArgumentError('activate another key before retiring the active one');
    await writeKeyFile(path, { ...file, keys: file.keys.filter((k) => k.kid !== kid) });
  });

program
  .command('openapi')
  .description('print the OpenAPI 3.1 document (no server, no database)')
  .action(() => {
    process.stdout.write(`${JSON.stringify(openApiDocument(), null, 2)}\n`);
  });

program.parseAsync().catch((error: unknown) => {
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  console.error(error instanceof Error ? `${error.message.split('\n')[0]}${cause}` : error);
  process.exit(1);
});
