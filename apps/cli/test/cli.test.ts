import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const cliDir = join(import.meta.dirname, '..');
const bin = join(cliDir, 'dist', 'houfu.mjs');
let dataDir: string;

/** Runs the built CLI with its own data directory (and the suite's DATABASE_URL, if any). */
async function houfu(...args: string[]) {
  try {
    const { stdout, stderr } = await exec(process.execPath, [bin, ...args], {
      env: { ...process.env, HOUFU_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  await exec(process.execPath, ['build.mjs'], { cwd: cliDir });
  dataDir = await mkdtemp(join(tmpdir(), 'houfu-cli-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe('houfu token', () => {
  it('prints a dev JWT signed by the local key file', async () => {
    const r = await houfu('token', '--division', '420581', '--role', 'county_operator', '--sub', 'dev:test');
    expect(r.code).toBe(0);
    const keys = JSON.parse(await readFile(join(dataDir, 'keys', 'jwks.json'), 'utf8')) as {
      keys: { d?: string }[];
    };
    const publicKeys = { keys: keys.keys.map(({ d: _d, ...k }) => k) };
    const { payload, protectedHeader } = await jwtVerify(r.stdout.trim(), createLocalJWKSet(publicKeys), {
      issuer: 'houfu',
      audience: 'houfu-api',
      typ: 'at+jwt',
      algorithms: ['ES256'],
    });
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload).toMatchObject({ sub: 'dev:test', division: 420581, roles: ['county_operator'] });
  });

  it('refuses a role at the wrong level and unknown roles', async () => {
    const wrongLevel = await houfu('token', '--division', '420500', '--role', 'county_operator');
    expect(wrongLevel.code).toBe(1);
    expect(wrongLevel.stderr).toMatch(/county_operator/);
    const unknown = await houfu('token', '--division', '420581', '--role', 'mayor');
    expect(unknown.code).not.toBe(0);
    const badCode = await houfu('token', '--division', '123', '--role', 'auditor');
    expect(badCode.code).not.toBe(0);
  });
});

describe('houfu keys', () => {
  it('publishes a key before it signs, then activates and retires', async () => {
    await houfu('token', '--division', '420581', '--role', 'auditor');
    const before = (await houfu('keys', 'list')).stdout.trim().split('\n');
    const oldKid = before.find((l) => l.startsWith('*'))?.slice(2);
    const added = (await houfu('keys', 'add')).stdout.trim();
    expect((await houfu('keys', 'list')).stdout).toContain(`  ${added}`);
    const signed = (await houfu('token', '--division', '420581', '--role', 'auditor')).stdout;
    expect(JSON.parse(Buffer.from(signed.split('.')[0]!, 'base64url').toString()).kid).toBe(oldKid);
    expect((await houfu('keys', 'retire', added)).code).toBe(0);
    const again = (await houfu('keys', 'add')).stdout.trim();
    expect((await houfu('keys', 'activate', again)).code).toBe(0);
    expect((await houfu('keys', 'retire', again)).code).not.toBe(0);
    expect((await houfu('keys', 'retire', oldKid!)).code).toBe(0);
    expect((await houfu('keys', 'list')).stdout.trim()).toBe(`* ${again}`);
  });
});

describe('houfu migrate, seed-demo, client, audit-verify', () => {
  it('migrates, loads the demo counties and verifies the audit chains', async () => {
    const migrated = await houfu('migrate');
    expect(migrated.code).toBe(0);
    expect(migrated.stderr).toMatch(/divisions in the dictionary/);
    expect((await houfu('migrate')).code).toBe(0);
    const seeded = await houfu('seed-demo');
    expect(seeded.code).toBe(0);
    // On a shared PostgreSQL other suites add townships and villages of their own: at least the dictionary's.
    const [, townships, villages] =
      /county 420581: (\d+) townships, (\d+) villages/.exec(seeded.stderr) ?? [];
    expect(Number(townships)).toBeGreaterThanOrEqual(11);
    expect(Number(villages)).toBeGreaterThanOrEqual(155);
    if (!process.env.DATABASE_URL) {
      // Demo payments: 2026-H1 approved (prepared and approved by two users), 2026-H2 a draft.
      expect(seeded.stderr).toMatch(
        /county 420581: payment batch 420581-2026-H1-01 approved, [1-9]\d* lines/,
      );
      expect(seeded.stderr).toMatch(/county 420581: payment batch 420581-2026-H2-01 draft, \d+ lines/);
    }
    const client = await houfu(
      'client',
      'create',
      '--division',
      '420000',
      '--name',
      '测试银行',
      '--scopes',
      'divisions:read',
    );
    expect(client.stdout).toMatch(/^client_id=hf_420000_[0-9a-f]{16}\nclient_secret=\S{20,}\n$/);
    const refused = await houfu(
      'client',
      'create',
      '--division',
      '420000',
      '--name',
      'x',
      '--scopes',
      'localities:write',
    );
    expect(refused.code).not.toBe(0);
    const verified = await houfu('audit-verify', '--division', '420581');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^420581: \d+ events, valid$/m);
  });
});

describe('houfu serve', () => {
  // The suite's PostgreSQL is migrated by design: this case is the embedded database's.
  it.runIf(!process.env.DATABASE_URL)('refuses an embedded database that was never migrated', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'houfu-empty-'));
    try {
      const { stderr, code } = await exec(process.execPath, [bin, 'serve'], {
        env: { ...process.env, HOUFU_DATA_DIR: empty, PORT: '0' },
      }).then(
        (r) => ({ ...r, code: 0 }),
        (e: { stderr: string; code: number }) => e,
      );
      expect(code).toBe(1);
      expect(stderr).toMatch(/not migrated: run `houfu migrate` first/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('refuses to start without signing keys instead of inventing new ones', async () => {
    await houfu('migrate');
    const r = await exec(process.execPath, [bin, 'serve'], {
      env: {
        ...process.env,
        HOUFU_DATA_DIR: dataDir,
        HOUFU_JWKS_PATH: join(dataDir, 'missing.json'),
        PORT: '0',
      },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { stderr: string; code: number }) => e,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no signing keys at .*missing\.json/);
  });
});

describe('houfu dev (what npm start runs)', () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    child?.kill('SIGTERM');
  });

  it('serves the API with demo data and working dev tokens', async () => {
    child = spawn(process.execPath, [bin, 'dev'], {
      env: { ...process.env, HOUFU_DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn' },
    });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    for (let i = 0; i < 200 && !/Try: curl/.test(out); i += 1) await new Promise((r) => setTimeout(r, 100));
    const url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(url).toBeTruthy();
    const roles = [...out.matchAll(/^ {2}(\w+) +(\d{6}) (\S+)\n {2}(\S+)$/gm)].map((m) => ({
      role: m[1],
      division: Number(m[2]),
      token: m[4]!,
    }));
    expect(roles.map((r) => r.role)).toEqual(
      expect.arrayContaining([
        'county_operator',
        'city_reviewer',
        'province_admin',
        'auditor',
        'national_admin',
      ]),
    );
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    if (!process.env.DATABASE_URL) {
      // PGlite is one process's database: a second process is refused while the server holds it.
      const second = await houfu('seed-demo');
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/in use by another process/);
    }
    const operator = roles.find((r) => r.role === 'county_operator' && r.division === 420581)!;
    const me = await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${operator.token}` } });
    expect(await me.json()).toMatchObject({ division: { code: 420581, name: '宜都市' } });
    const villages = await fetch(`${url}/v1/localities?county=420581&level=village&limit=200`, {
      headers: { authorization: `Bearer ${operator.token}` },
    });
    expect(((await villages.json()) as { data: unknown[] }).data.length).toBeGreaterThanOrEqual(155);
  });
});
