import { randomUUID } from 'node:crypto';
import { scrubSensitive } from '@houfu/domain';
import { bodyLimit } from 'hono/body-limit';
import { every } from 'hono/combine';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { timeout } from 'hono/timeout';
import { createRouter } from './lib/create-router.js';
import { onError } from './lib/errors.js';
import { ApiError, problemResponse } from './lib/problem.js';
import type { AppDeps } from './lib/types.js';
import { authenticate, knownDivisionsOnly } from './middleware/auth.js';
import { rateLimit, rateLimitHeaders } from './middleware/rate-limit.js';
import { tenantTransaction } from './middleware/tenant.js';
import { registerDocsPage, registerOpenApi } from './openapi.js';
import audit from './routes/audit/audit.index.js';
import demonstration from './routes/demonstration/demonstration.index.js';
import disbursements from './routes/disbursements/disbursements.index.js';
import divisions from './routes/divisions/divisions.index.js';
import imports from './routes/imports/imports.index.js';
import jobs from './routes/jobs/jobs.index.js';
import localities from './routes/localities/localities.index.js';
import me from './routes/me/me.index.js';
import { createOAuthRouter } from './routes/oauth/oauth.index.js';
import persons from './routes/persons/persons.index.js';
import policy from './routes/policy/policy.index.js';
import progress from './routes/progress/progress.index.js';
import projects from './routes/projects/projects.index.js';
import registry from './routes/registry/registry.index.js';
import system from './routes/system/system.index.js';
import training from './routes/training/training.index.js';
import vocationalAid from './routes/vocational-aid/vocational-aid.index.js';

/** JSON bodies are capped at 1 MiB (uploads will have their own streaming routes). */
export const BODY_LIMIT_BYTES = 1024 * 1024;

const PUBLIC_V1 = new Set(['/v1/oauth/token']);
/**
 * POST routes whose body is a file (a registry import, a bank return, a session's attendance list),
 * exempt from the 1 MiB JSON limit: they count the bytes themselves against their own cap
 * (HOUFU_IMPORT_MAX_BYTES; 2 MiB for an attendance list).
 */
const isFileUpload = (path: string) =>
  path === '/v1/imports' ||
  /^\/v1\/disbursements\/[^/]+\/returns$/.test(path) ||
  /^\/v1\/training-sessions\/[^/]+\/attendance$/.test(path);

export function createApp(deps: AppDeps) {
  const app = createRouter();
  const protect = every(
    authenticate(),
    knownDivisionsOnly(deps.db),
    rateLimit(deps.config.HOUFU_RATE_LIMIT_PER_MINUTE),
    tenantTransaction,
  );

  // A caller's X-Request-Id is kept when it is short, plain and carries no ID or account number
  // (it ends up in logs and audit records); otherwise the server makes one.
  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const id =
      incoming && /^[\w=.:-]{1,255}$/.test(incoming) && scrubSensitive(incoming) === incoming
        ? incoming
        : randomUUID();
    c.set('requestId', id);
    c.header('X-Request-Id', id);
    await next();
  });
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    const started = performance.now();
    await next();
    if (!deps.logger.isLevelEnabled('info')) return;
    deps.logger.info(
      {
        requestId: c.var.requestId,
        method: c.req.method,
        route: c.req.routePath,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        division: c.var.principal?.division,
        sub: c.var.principal?.sub,
      },
      'request',
    );
  });
  app.use('*', secureHeaders());
  const jsonBodyLimit = bodyLimit({
    maxSize: BODY_LIMIT_BYTES,
    onError: () => {
      throw new ApiError('payload_too_large', `Request bodies are limited to ${BODY_LIMIT_BYTES} bytes.`);
    },
  });
  // File uploads stream into the database under their own cap (HOUFU_IMPORT_MAX_BYTES). A GET or HEAD
  // request has no body (@hono/node-server never attaches one), so the limit would pass it anyway:
  // skipped, which spares every read the full Request object that reading `c.req.raw.body` builds.
  app.use('*', (c, next) =>
    c.req.method === 'GET' || c.req.method === 'HEAD' || (c.req.method === 'POST' && isFileUpload(c.req.path))
      ? next()
      : jsonBodyLimit(c, next),
  );
  const tooLong = () => new HTTPException(504, { message: 'The request took too long.' });
  const requestTimeout = timeout(deps.config.HOUFU_REQUEST_TIMEOUT_MS, tooLong);
  const uploadTimeout = timeout(deps.config.HOUFU_UPLOAD_TIMEOUT_MS, tooLong);
  app.use('/v1/*', (c, next) =>
    c.req.method === 'POST' && isFileUpload(c.req.path) ? uploadTimeout(c, next) : requestTimeout(c, next),
  );
  app.use('/v1/*', rateLimitHeaders);
  app.use('/v1/*', async (c, next) => {
    c.header('cache-control', 'no-store');
    return PUBLIC_V1.has(c.req.path) ? next() : protect(c, next);
  });

  const routes = [
    system,
    createOAuthRouter(),
    me,
    divisions,
    localities,
    persons,
    imports,
    jobs,
    registry,
    policy,
    disbursements,
    projects,
    demonstration,
    progress,
    vocationalAid,
    training,
    audit,
  ] as const;
  for (const r of routes) app.route('/', r);

  registerOpenApi(app);
  registerDocsPage(app);
  app.notFound((c) => problemResponse(c, 'not_found', `No route for ${c.req.method} ${c.req.path}.`));
  app.onError(onError);
  return app;
}

export type App = ReturnType<typeof createApp>;
