import type { Actor, Sealer, Tx } from '@houfu/db';
import type { Context as HonoContext } from 'hono';
import type { AppEnv } from './types.js';

/** What a service needs from a request: its transaction, the caller, the clock and the sealer. */
export interface ServiceContext {
  tx: Tx;
  actor: Actor;
  requestId: string | null;
  now: Date;
  sealer: Sealer;
}

export function serviceContext(c: HonoContext<AppEnv>): ServiceContext {
  const { sub, kind, division } = c.var.principal;
  return {
    tx: c.var.tx,
    actor: { sub, kind, division },
    requestId: c.var.requestId,
    now: c.var.deps.now(),
    sealer: c.var.deps.sealer,
  };
}
