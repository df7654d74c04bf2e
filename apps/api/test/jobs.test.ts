/**
 * The job runner (claim, steps with checkpoints, fencing, failure, retry, shutdown, resume) with a
 * test job kind, and GET /v1/jobs/{id} with its tenancy.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Job, schema, withDivision } from '@houfu/db';
import { usingPostgres } from '@houfu/db/testing';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueJob } from '../src/jobs/index.js';
import {
  createJobRunner,
  type JobContext,
  JobFailure,
  type JobHandler,
  type JobRunnerOptions,
} from '../src/jobs/runner.js';
import { createLogger } from '../src/lib/logger.js';
import { createTestApp, json, problem, type TestApp } from './helpers.js';

const COUNTY = 420581;
let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

/** What the test handler did, per job: the steps it committed (a resumed job must not repeat one). */
const work = new Map<string, number[]>();
const gates = new Map<string, Promise<void>>();
/** Jobs whose gated step has begun its transaction. */
const entered = new Set<string>();
const failures: { job: string; code: string }[] = [];
/** Per queue and county: how many jobs run the handler now, and the most that ever did at once. */
const active = new Map<string, number>();
const mostActive = new Map<string, number>();
const activeKey = (queue: string, county: number) => `${queue}:${county}`;

interface TestParams {
  steps: number;
  resource: string;
  fail?: 'job_failure' | 'throw';
  /** The JobFailure's message (default: 'The input is bad.'). */
  failMessage?: string;
  /** Wait on the job's gate before this step's transaction begins. */
  gateAtStep?: number;
  /** Wait on the job's gate inside this step's transaction. */
  gateInStep?: number;
}

/** `test.steps`: N steps, each recorded with checkpoint {done}; may fail or wait on a gate. */
const stepsHandler: JobHandler = {
  kind: 'test.steps',
  async run(ctx) {
    const key = activeKey(String(ctx.job.params.queue), ctx.job.divisionCode);
    const now = (active.get(key) ?? 0) + 1;
    active.set(key, now);
    mostActive.set(key, Math.max(now, mostActive.get(key) ?? 0));
    try {
      await runSteps(ctx);
    } finally {
      active.set(key, (active.get(key) ?? 1) - 1);
    }
  },
  async onFailure(_tx, job, error) {
    failures.push({ job: job.id, code: error.code });
  },
};

async function runSteps(ctx: JobContext): Promise<void> {
  const params = ctx.job.params as unknown as TestParams;
  let done = Number((ctx.job.checkpoint as { done?: number }).done ?? 0);
  while (done < params.steps) {
    if (params.gateAtStep === done + 1) {
      entered.add(ctx.job.id);
      await gates.get(ctx.job.id);
    }
    if (params.fail === 'job_failure' && done === 1) {
      throw new JobFailure('bad_input', params.failMessage ?? 'The input is bad.');
    }
    if (params.fail === 'throw' && done === 1) throw new Error('boom');
    const step = done + 1;
    await ctx.step(
      async () => {
        if (params.gateInStep === step) {
          entered.add(ctx.job.id);
          await gates.get(ctx.job.id);
        }
      },
      {
        phase: `step ${step}`,
        progressDone: step,
        progressTotal: params.steps,
        checkpoint: { done: step },
      },
    );
    // Recorded once the step has committed.
    work.set(ctx.job.id, [...(work.get(ctx.job.id) ?? []), step]);
    done = step;
  }
  await ctx.complete(async () => ({ steps: done }), { phase: 'done' });
}

function runner(queue: string, options: Partial<JobRunnerOptions> = {}) {
  return createJobRunner({
    db: t.db,
    logger: createLogger('silent'),
    handlers: [stepsHandler],
    queue,
    ...options,
  });
}

async function enqueue(queue: string, params: Omit<TestParams, 'resource'>, county = COUNTY): Promise<Job> {
  return withDivision(t.db, county, (tx) =>
    enqueueJob(tx, {
      division: county,
      kind: 'test.steps',
      params: { ...params, resource: `/v1/test/${randomUUID()}` },
      actor: { sub: 'user:test', kind: 'user' },
      queue,
    }),
  );
}

async function jobRow(job: Job) {
  const [row] = await withDivision(t.db, job.divisionCode, (tx) =>
    tx.select().from(schema.jobs).where(eq(schema.jobs.id, job.id)),
  );
  return row as Job;
}

const expireLease = (job: Job) =>
  t.admin.orm.execute(sql`UPDATE jobs SET lease_until = now() - interval '1 second' WHERE id = ${job.id}`);

describe('the runner', () => {
  it('runs queued jobs oldest first, committing progress and checkpoint with each step', async () => {
    const queue = randomUUID();
    const a = await enqueue(queue, { steps: 3 });
    const b = await enqueue(queue, { steps: 1 });
    const order: string[] = [];
    const r = runner(queue);
    const checkpoints: unknown[] = [];
    const out = await r.runUntilIdle({
      hooks: {
        afterCommit: (job, p) => {
          if (!order.includes(job.id)) order.push(job.id);
          checkpoints.push([job.id === a.id ? 'a' : 'b', p.phase, p.checkpoint]);
        },
      },
    });
    expect(out).toEqual({ ran: 2, crashed: false });
    expect(order).toEqual([a.id, b.id]);
    expect(checkpoints).toEqual([
      ['a', 'step 1', { done: 1 }],
      ['a', 'step 2', { done: 2 }],
      ['a', 'step 3', { done: 3 }],
      ['a', 'done', undefined],
      ['b', 'step 1', { done: 1 }],
      ['b', 'done', undefined],
    ]);
    expect(work.get(a.id)).toEqual([1, 2, 3]);
    expect(await jobRow(a)).toMatchObject({
      status: 'succeeded',
      phase: 'done',
      progressDone: 3,
      progressTotal: 3,
      checkpoint: { done: 3 },
      result: { steps: 3 },
      attempts: 1,
      leaseUntil: null,
    });
    expect((await jobRow(a)).finishedAt).toBeInstanceOf(Date);
    expect(await r.runUntilIdle()).toEqual({ ran: 0, crashed: false });
  });

  it('a JobFailure fails the job with {code, message}, with the handler’s own writes, and is not retried', async () => {
    const queue = randomUUID();
    const job = await enqueue(queue, { steps: 3, fail: 'job_failure' });
    await runner(queue).runUntilIdle();
    expect(await jobRow(job)).toMatchObject({
      status: 'failed',
      error: { code: 'bad_input', message: 'The input is bad.' },
      checkpoint: { done: 1 },
      attempts: 1,
    });
    expect(failures).toContainEqual({ job: job.id, code: 'bad_input' });
    await expireLease(job);
    expect(await runner(queue).runUntilIdle()).toEqual({ ran: 0, crashed: false });
  });

  it('an unexpected error hands the job back with a back-off; after maxAttempts it fails', async () => {
    const queue = randomUUID();
    const job = await enqueue(queue, { steps: 3, fail: 'throw' });
    const r = runner(queue, { maxAttempts: 2 });
    expect(await r.runUntilIdle()).toEqual({ ran: 1, crashed: false });
    const after1 = await jobRow(job);
    expect(after1).toMatchObject({ status: 'running', attempts: 1, checkpoint: { done: 1 } });
    expect((after1.leaseUntil as Date).getTime()).toBeGreaterThan(Date.now());
    expect(await r.runUntilIdle()).toEqual({ ran: 0, crashed: false });
    await expireLease(job);
    await r.runUntilIdle();
    expect(await jobRow(job)).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: { code: 'internal_error' },
    });
    // The step before the error committed once, and was not redone by the second attempt.
    expect(work.get(job.id)).toEqual([1]);
  });

  it('a job claimed more than maxAttempts times (its runner keeps dying) fails without running', async () => {
    const queue = randomUUID();
    const job = await enqueue(queue, { steps: 1 });
    await t.admin.orm.execute(
      sql`UPDATE jobs SET status = 'running', attempts = 5, lease_until = now() - interval '1 second' WHERE id = ${job.id}`,
    );
    await runner(queue, { maxAttempts: 5 }).runUntilIdle();
    expect(await jobRow(job)).toMatchObject({
      status: 'failed',
      attempts: 6,
      error: { code: 'attempts_exhausted' },
    });
    expect(work.get(job.id)).toBeUndefined();
  });

  it('fencing: a runner whose claim was taken over cannot write its step', async () => {
    const queue = randomUUID();
    const job = await enqueue(queue, { steps: 2, gateAtStep: 2 });
    let open: () => void = () => undefined;
    gates.set(job.id, new Promise<void>((resolve) => (open = resolve)));
    const stale = runner(queue);
    const running = stale.runUntilIdle();
    await until(async () => (work.get(job.id) ?? []).length === 1);
    // Meanwhile its lease ran out and another runner claimed the job (attempt 2).
    await t.admin.orm.execute(sql`UPDATE jobs SET attempts = attempts + 1 WHERE id = ${job.id}`);
    open();
    await running;
    expect(work.get(job.id)).toEqual([1]);
    expect(await jobRow(job)).toMatchObject({ status: 'running', attempts: 2, checkpoint: { done: 1 } });
    gates.delete(job.id);
    await expireLease(job);
    await runner(queue).runUntilIdle();
    expect(work.get(job.id)).toEqual([1, 2]);
    expect(await jobRow(job)).toMatchObject({ status: 'succeeded', attempts: 3 });
  });

  it('start/kick picks a job up at once; stop() lets the running step commit and hands the job back', async () => {
    const queue = randomUUID();
    const r = runner(queue, { pollMs: 60_000 });
    r.start();
    const quick = await enqueue(queue, { steps: 1 });
    r.kick();
    await until(async () => (await jobRow(quick)).status === 'succeeded');

    const slow = await enqueue(queue, { steps: 3, gateInStep: 2 });
    let open: () => void = () => undefined;
    gates.set(slow.id, new Promise<void>((resolve) => (open = resolve)));
    r.kick();
    await until(async () => entered.has(slow.id));
    const stopping = r.stop();
    open();
    await stopping;
    // Step 2 was under way: it committed, then the runner stopped before step 3 and released the job;
    // a clean hand-back gives its attempt back.
    expect(work.get(slow.id)).toEqual([1, 2]);
    const released = await jobRow(slow);
    expect(released).toMatchObject({ status: 'running', attempts: 0, checkpoint: { done: 2 } });
    expect((released.leaseUntil as Date).getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
    gates.delete(slow.id);

    const next = runner(queue);
    await until(async () => (await next.runUntilIdle()).ran === 1);
    expect(work.get(slow.id)).toEqual([1, 2, 3]);
    expect(await jobRow(slow)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('hand-backs on shutdown are not attempts: a job outlives more deploys than maxAttempts', async () => {
    const queue = randomUUID();
    const job = await enqueue(queue, { steps: 2, gateAtStep: 2 });
    for (let deploy = 0; deploy < 4; deploy += 1) {
      let open: () => void = () => undefined;
      gates.set(job.id, new Promise<void>((resolve) => (open = resolve)));
      entered.delete(job.id);
      const r = runner(queue, { maxAttempts: 2, pollMs: 60_000 });
      r.start();
      await until(async () => entered.has(job.id));
      const stopping = r.stop();
      open();
      await stopping;
      expect(await jobRow(job)).toMatchObject({ status: 'running', attempts: 0, checkpoint: { done: 1 } });
    }
    gates.delete(job.id);
    await runner(queue, { maxAttempts: 2 }).runUntilIdle();
    expect(await jobRow(job)).toMatchObject({ status: 'succeeded', attempts: 1, error: null });
    expect(work.get(job.id)).toEqual([1, 2]);
  });

  it('a failure message is stored scrubbed: no ID or account number in clear', async () => {
    const queue = randomUUID();
    const id = '420581197001010013';
    const job = await enqueue(queue, {
      steps: 3,
      fail: 'job_failure',
      failMessage: `Row 2: ${id} / 6228480012345678901 is bad.`,
    });
    await runner(queue).runUntilIdle();
    expect(await jobRow(job)).toMatchObject({
      status: 'failed',
      error: { code: 'bad_input', message: 'Row 2: 420581********0013 / ****8901 is bad.' },
    });
  });

  it.runIf(usingPostgres())(
    'two runners claim concurrently (SKIP LOCKED): each job runs exactly once',
    async () => {
      const queue = randomUUID();
      const jobs = await Promise.all(Array.from({ length: 8 }, () => enqueue(queue, { steps: 2 })));
      const [a, b] = await Promise.all([runner(queue).runUntilIdle(), runner(queue).runUntilIdle()]);
      expect((a?.ran ?? 0) + (b?.ran ?? 0)).toBe(8);
      for (const job of jobs) {
        expect(work.get(job.id)).toEqual([1, 2]);
        expect(await jobRow(job)).toMatchObject({ status: 'succeeded', attempts: 1 });
      }
      // All of one county: one after another, whichever runner claimed them.
      expect(mostActive.get(activeKey(queue, COUNTY))).toBe(1);
    },
  );
});

describe('running several jobs at once (concurrency)', () => {
  const OTHER = 420582;
  const THIRD = 420115;

  /** Closes the job's gate; the returned function opens it. */
  function gate(job: Job): () => void {
    let open: () => void = () => undefined;
    gates.set(
      job.id,
      new Promise<void>((resolve) => {
        open = resolve;
      }),
    );
    return () => {
      open();
      gates.delete(job.id);
    };
  }

  it('with concurrency 2, jobs of two counties run at the same time', async () => {
    const queue = randomUUID();
    const a = await enqueue(queue, { steps: 2, gateAtStep: 1 });
    const b = await enqueue(queue, { steps: 2, gateAtStep: 1 }, OTHER);
    const openA = gate(a);
    const openB = gate(b);
    const r = runner(queue, { concurrency: 2, pollMs: 60_000 });
    r.start();
    // Each waits at its gate until both have arrived: only two jobs running at once get there.
    await until(async () => entered.has(a.id) && entered.has(b.id));
    expect(await jobRow(a)).toMatchObject({ status: 'running', attempts: 1 });
    expect(await jobRow(b)).toMatchObject({ status: 'running', attempts: 1 });
    openA();
    openB();
    await until(
      async () => (await jobRow(a)).status === 'succeeded' && (await jobRow(b)).status === 'succeeded',
    );
    await r.stop();
    expect(work.get(a.id)).toEqual([1, 2]);
    expect(work.get(b.id)).toEqual([1, 2]);
    expect(mostActive.get(activeKey(queue, COUNTY))).toBe(1);
    expect(mostActive.get(activeKey(queue, OTHER))).toBe(1);
  });

  it('two jobs of one county never overlap; a job of another county runs meanwhile', async () => {
    const queue = randomUUID();
    const a = await enqueue(queue, { steps: 2, gateAtStep: 1 });
    const b = await enqueue(queue, { steps: 2, gateAtStep: 1 });
    const c = await enqueue(queue, { steps: 2, gateAtStep: 1 }, OTHER);
    const openA = gate(a);
    const openB = gate(b);
    const openC = gate(c);
    const r = runner(queue, { concurrency: 3, pollMs: 60_000 });
    r.start();
    await until(async () => entered.has(a.id) && entered.has(c.id));
    // Free workers look again (kick, and the poll after a loop found nothing): b stays queued.
    for (let i = 0; i < 5; i += 1) {
      r.kick();
      await sleep(60);
    }
    expect(entered.has(b.id)).toBe(false);
    expect(await jobRow(b)).toMatchObject({ status: 'queued', attempts: 0 });
    // Another runner (another process) does not take it either.
    expect(await runner(queue).runUntilIdle()).toEqual({ ran: 0, crashed: false });
    openA();
    await until(async () => entered.has(b.id));
    expect(await jobRow(a)).toMatchObject({ status: 'succeeded' });
    openB();
    openC();
    await until(async () =>
      (await Promise.all([a, b, c].map(jobRow))).every((j) => j.status === 'succeeded'),
    );
    await r.stop();
    expect(mostActive.get(activeKey(queue, COUNTY))).toBe(1);
    for (const job of [a, b, c]) expect(work.get(job.id)).toEqual([1, 2]);
  });

  it('a job handed back with a back-off keeps its county: the next job of it waits', async () => {
    const queue = randomUUID();
    const failing = await enqueue(queue, { steps: 3, fail: 'throw' });
    const next = await enqueue(queue, { steps: 1 });
    const r = runner(queue);
    // The first claim fails and backs off; its county's other job is not claimed meanwhile.
    expect(await r.runUntilIdle()).toEqual({ ran: 1, crashed: false });
    expect(await jobRow(failing)).toMatchObject({ status: 'running', attempts: 1 });
    expect(await jobRow(next)).toMatchObject({ status: 'queued' });
    await expireLease(failing);
    await runner(queue, { maxAttempts: 2 }).runUntilIdle();
    expect(await jobRow(failing)).toMatchObject({ status: 'failed', error: { code: 'internal_error' } });
    expect(await jobRow(next)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('stop() hands back every running job; the next runner finishes them', async () => {
    const queue = randomUUID();
    const jobs = [
      await enqueue(queue, { steps: 2, gateAtStep: 2 }),
      await enqueue(queue, { steps: 2, gateAtStep: 2 }, OTHER),
      await enqueue(queue, { steps: 2, gateAtStep: 2 }, THIRD),
    ];
    const opens = jobs.map(gate);
    const r = runner(queue, { concurrency: 3, pollMs: 60_000 });
    r.start();
    await until(async () => jobs.every((j) => entered.has(j.id)));
    const stopping = r.stop();
    for (const open of opens) open();
    await stopping;
    for (const job of jobs) {
      expect(work.get(job.id)).toEqual([1]);
      const released = await jobRow(job);
      expect(released).toMatchObject({ status: 'running', attempts: 0, checkpoint: { done: 1 } });
      expect((released.leaseUntil as Date).getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
    }
    expect(await runner(queue, { concurrency: 3 }).runUntilIdle()).toEqual({ ran: 3, crashed: false });
    for (const job of jobs) {
      expect(work.get(job.id)).toEqual([1, 2]);
      expect(await jobRow(job)).toMatchObject({ status: 'succeeded', attempts: 1 });
    }
  });

  it.runIf(usingPostgres())(
    'stop() during two steps in flight: both commit, then both jobs are handed back',
    async () => {
      const queue = randomUUID();
      const a = await enqueue(queue, { steps: 3, gateInStep: 2 });
      const b = await enqueue(queue, { steps: 3, gateInStep: 2 }, OTHER);
      const openA = gate(a);
      const openB = gate(b);
      const r = runner(queue, { concurrency: 2, pollMs: 60_000 });
      r.start();
      await until(async () => entered.has(a.id) && entered.has(b.id));
      const stopping = r.stop();
      openA();
      openB();
      await stopping;
      for (const job of [a, b]) {
        expect(work.get(job.id)).toEqual([1, 2]);
        expect(await jobRow(job)).toMatchObject({ status: 'running', attempts: 0, checkpoint: { done: 2 } });
      }
      expect(await runner(queue).runUntilIdle()).toEqual({ ran: 2, crashed: false });
      for (const job of [a, b]) expect(work.get(job.id)).toEqual([1, 2, 3]);
    },
  );

  it('concurrency 1 runs one job at a time, as before', async () => {
    const queue = randomUUID();
    const a = await enqueue(queue, { steps: 1, gateAtStep: 1 });
    const b = await enqueue(queue, { steps: 1, gateAtStep: 1 }, OTHER);
    const openA = gate(a);
    const openB = gate(b);
    const r = runner(queue, { concurrency: 1, pollMs: 60_000 });
    r.start();
    await until(async () => entered.has(a.id));
    for (let i = 0; i < 5; i += 1) {
      r.kick();
      await sleep(60);
    }
    expect(entered.has(b.id)).toBe(false);
    expect(await jobRow(b)).toMatchObject({ status: 'queued' });
    openA();
    await until(async () => entered.has(b.id));
    expect(await jobRow(a)).toMatchObject({ status: 'succeeded' });
    openB();
    await until(async () => (await jobRow(b)).status === 'succeeded');
    await r.stop();
  });

  it('runUntilIdle runs one job after another whatever the concurrency', async () => {
    const queue = randomUUID();
    const jobs = [
      await enqueue(queue, { steps: 2 }),
      await enqueue(queue, { steps: 2 }, OTHER),
      await enqueue(queue, { steps: 1 }, THIRD),
    ];
    const trace: string[] = [];
    const out = await runner(queue, { concurrency: 4 }).runUntilIdle({
      hooks: { afterCommit: (job, p) => void trace.push(`${job.divisionCode} ${p.phase}`) },
    });
    expect(out).toEqual({ ran: 3, crashed: false });
    expect(trace).toEqual([
      `${COUNTY} step 1`,
      `${COUNTY} step 2`,
      `${COUNTY} done`,
      `${OTHER} step 1`,
      `${OTHER} step 2`,
      `${OTHER} done`,
      `${THIRD} step 1`,
      `${THIRD} done`,
    ]);
    for (const job of jobs) expect(await jobRow(job)).toMatchObject({ status: 'succeeded' });
  });

  it.runIf(usingPostgres())(
    'two runners with two workers each: every job once, never two of one county at once',
    async () => {
      const queue = randomUUID();
      const counties = [COUNTY, OTHER, THIRD];
      const jobs = await Promise.all(
        Array.from({ length: 12 }, (_, i) => enqueue(queue, { steps: 2 }, counties[i % 3])),
      );
      const runners = [0, 1].map(() => runner(queue, { concurrency: 2, pollMs: 50 }));
      for (const r of runners) r.start();
      await until(async () => (await Promise.all(jobs.map(jobRow))).every((j) => j.status === 'succeeded'));
      await Promise.all(runners.map((r) => r.stop()));
      for (const job of jobs) {
        expect(work.get(job.id)).toEqual([1, 2]);
        expect(await jobRow(job)).toMatchObject({ status: 'succeeded', attempts: 1 });
      }
      for (const county of counties) expect(mostActive.get(activeKey(queue, county))).toBe(1);
    },
  );
});

describe('GET /v1/jobs/{id}', () => {
  it('shows status, progress and the resource; 404 outside the scope; 400 for a malformed id', async () => {
    const queue = randomUUID();
    const job = await enqueue(queue, { steps: 2 });
    const token = await t.token(COUNTY, ['county_operator']);
    const queued = await t.call('GET', `/v1/jobs/${job.id}`, { token });
    expect(queued.status).toBe(200);
    expect(await json(queued)).toEqual({
      id: job.id,
      county_code: COUNTY,
      kind: 'test.steps',
      status: 'queued',
      phase: null,
      progress: { done: 0, total: null, percent: null },
      attempts: 0,
      created_at: job.createdAt.toISOString(),
      started_at: null,
      finished_at: null,
      result: null,
      error: null,
      links: { self: `/v1/jobs/${job.id}`, resource: (job.params as { resource: string }).resource },
    });
    await runner(queue).runUntilIdle();
    const done = await json<{ status: string; progress: unknown; result: unknown }>(
      await t.call('GET', `/v1/jobs/${job.id}`, { token: await t.token(420500, ['city_reviewer']) }),
    );
    expect(done).toMatchObject({
      status: 'succeeded',
      progress: { done: 2, total: 2, percent: 100 },
      result: { steps: 2 },
    });

    for (const other of [
      await t.token(420582, ['county_operator']),
      await t.token(420100, ['city_reviewer']),
    ]) {
      const res = await t.call('GET', `/v1/jobs/${job.id}`, { token: other });
      expect(res.status).toBe(404);
      expect((await problem(res)).code).toBe('not_found');
    }
    expect((await t.call('GET', '/v1/jobs/not-a-uuid', { token })).status).toBe(400);
    expect((await t.call('GET', `/v1/jobs/${randomUUID()}`, { token })).status).toBe(404);
  });
});

async function until(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(20);
  }
  throw new Error('condition not met in time');
}
