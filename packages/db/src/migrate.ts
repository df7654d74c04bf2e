import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import { API_ROLE, type Database, OWNER_ROLE } from './client.js';
import { rowsOf } from './tenant.js';

// Resolved through the package (not relative to this file) so that a bundled CLI finds them too.
const MIGRATIONS_DIR = new URL(
  'migrations/',
  pathToFileURL(createRequire(import.meta.url).resolve('@houfu/db/package.json')),
);
const MIGRATION_LOCK = 72_040_581;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802/7677), computed here so that
 * the password itself never travels in a statement. Passwords are used as given (no SASLprep), which
 * matches PostgreSQL for ASCII passwords.
 */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest('base64');
  const serverKey = createHmac('sha256', salted).update('Server Key').digest('base64');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey}:${serverKey}`;
}

export interface Migration {
  name: string;
  checksum: string;
  text: string;
}

export async function readMigrations(): Promise<Migration[]> {
  const names = (await readdir(MIGRATIONS_DIR)).filter((n) => n.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (name) => {
      const text = await readFile(new URL(name, MIGRATIONS_DIR), 'utf8');
      return { name, text, checksum: createHash('sha256').update(text).digest('hex') };
    }),
  );
}

/**
 * Creates the two roles if they are missing (cluster-wide; needs CREATEROLE or a superuser) and lets
 * the owner create objects in the public schema. Separate statements so that two databases migrating
 * at once on one server do not fail on each other's role creation.
 */
const bootstrap = [OWNER_ROLE, API_ROLE].map(
  (role) => `DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN
    CREATE ROLE ${role} ${role === API_ROLE ? 'LOGIN' : 'NOLOGIN'} NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;`,
);

async function applied(db: Database): Promise<Map<string, string>> {
  const exists = rowsOf<{ t: string | null }>(
    await db.orm.execute(sql`SELECT to_regclass('houfu_migrations')::text AS t`),
  );
  if (!exists[0]?.t) return new Map();
  const rows = rowsOf<{ name: string; checksum: string }>(
    await db.orm.execute(sql`SELECT name, checksum FROM houfu_migrations`),
  );
  return new Map(rows.map((r) => [r.name, r.checksum]));
}

/**
 * Applies pending SQL migrations, each in its own transaction as houfu_owner, serialised by an
 * advisory lock. A migration edited after it was applied is an error, never silently re-run.
 * With `apiPassword`, sets houfu_api's login password (servers that do not trust local connections).
 * The connection must be administrative (superuser, or a member of houfu_owner); for postgres.js
 * open it with `max: 1`.
 */
export async function migrate(
  db: Database,
  options: { apiPassword?: string | undefined } = {},
): Promise<string[]> {
  for (const statement of bootstrap) await db.exec(statement);
  // The administrative user runs DDL as the owner and tenant writes (seeding, CLI) as the API role.
  const memberships = [OWNER_ROLE, API_ROLE].map(
    (role) => `IF NOT pg_has_role(current_user, '${role}', 'MEMBER') THEN
        EXECUTE format('GRANT ${role} TO %I', current_user);
      END IF;`,
  );
  await db.exec(`DO $$ BEGIN
      ${memberships.join('\n      ')}
    END $$;
    GRANT USAGE, CREATE ON SCHEMA public TO ${OWNER_ROLE};
    GRANT USAGE ON SCHEMA public TO ${API_ROLE};`);
  if (options.apiPassword) {
    // Sent as a SCRAM verifier, never in clear: ALTER ROLE is logged with log_statement = 'ddl'.
    await db.exec(`ALTER ROLE ${API_ROLE} WITH PASSWORD '${scramVerifier(options.apiPassword)}'`);
  }
  const done: string[] = [];
  for (const m of await readMigrations()) {
    const known = (await applied(db)).get(m.name);
    if (known === m.checksum) continue;
    if (known) throw new Error(`migration ${m.name} was changed after it was applied`);
    try {
      await db.exec(`BEGIN;
        SELECT pg_advisory_xact_lock(${MIGRATION_LOCK});
        SET LOCAL ROLE ${OWNER_ROLE};
        CREATE TABLE IF NOT EXISTS houfu_migrations (
          name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());
        INSERT INTO houfu_migrations (name, checksum) VALUES ('${m.name}', '${m.checksum}');
        ${m.text}
        COMMIT;`);
    } catch (error) {
      await db.exec('ROLLBACK').catch(() => {});
      // Another runner may have applied it meanwhile; anything else is a real failure.
      if ((await applied(db)).get(m.name) !== m.checksum) throw error;
      continue;
    }
    done.push(m.name);
  }
  return done;
}
