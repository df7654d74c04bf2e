import type { RouteHandler } from '@hono/zod-openapi';
import type { PaymentModeSettingRow, StoredPolicyValue } from '@houfu/db';
import { z } from 'zod';
import { decodeCursor, paginate } from '../../lib/pagination.js';
import { serviceContext } from '../../lib/service-context.js';
import type { AppEnv } from '../../lib/types.js';
import type {
  deletePaymentMode,
  deletePolicyOverride,
  getPolicyParameter,
  listPaymentModes,
  listPolicyParameters,
  setPaymentMode,
  setPolicyOverride,
} from './policy.routes.js';
import * as service from './policy.service.js';

const toParameter = (p: service.ParameterView) => ({
  id: p.id,
  description: p.description,
  value_schema: p.valueSchema,
  national: p.national,
  province: p.province
    ? {
        code: p.province.code,
        name: p.province.name,
        values: p.province.values.map((v) => ({
          from: v.from,
          value: v.value,
          source: v.source,
          stored: v.stored,
          set_by: v.setBy,
          set_at: v.setAt,
        })),
      }
    : null,
  on: p.on,
  in_force: p.inForce
    ? { from: p.inForce.from, value: p.inForce.value, source: p.inForce.source, level: p.inForce.level }
    : null,
});

export const list: RouteHandler<typeof listPolicyParameters, AppEnv> = async (c) => {
  const views = await service.listParameters(serviceContext(c), c.req.valid('query'));
  return c.json({ data: views.map(toParameter) }, 200);
};

export const get: RouteHandler<typeof getPolicyParameter, AppEnv> = async (c) => {
  const view = await service.getParameter(
    serviceContext(c),
    c.req.valid('param').parameter,
    c.req.valid('query'),
  );
  return c.json(toParameter(view), 200);
};

const toOverride = (s: StoredPolicyValue, statusesChanged: number) => ({
  parameter: s.parameter,
  province_code: s.province,
  from: s.from,
  value: s.value,
  source: s.source,
  set_by: s.setBy,
  set_at: s.setAt,
  statuses_changed: statusesChanged,
});

export const setOverride: RouteHandler<typeof setPolicyOverride, AppEnv> = async (c) => {
  const result = await service.setOverride(serviceContext(c), c.req.valid('param'), c.req.valid('json'));
  const body = toOverride(result.stored, result.statusesChanged);
  return result.created ? c.json(body, 201) : c.json(body, 200);
};

export const deleteOverride: RouteHandler<typeof deletePolicyOverride, AppEnv> = async (c) => {
  await service.deleteOverride(serviceContext(c), c.req.valid('param'));
  return c.body(null, 204);
};

const toSetting = (s: PaymentModeSettingRow) => ({
  county_code: s.county,
  code: s.locality === 0 ? s.county : s.locality,
  level: s.locality === 0 ? ('county' as const) : ('village' as const),
  name: s.localityName,
  from: s.from,
  mode: s.mode,
  cash_percent: s.cashPercent,
  source: s.source,
  set_by: s.setBy,
  set_at: s.setAt,
});

const toInForce = (m: service.ModeInForce) => ({
  mode: m.mode,
  cash_percent: m.cashPercent,
  from: m.from,
  source: m.source,
  level: m.level,
});

export const modes: RouteHandler<typeof listPaymentModes, AppEnv> = async (c) => {
  const q = c.req.valid('query');
  const after = decodeCursor(q.cursor, z.number().int().min(0).max(999_999));
  const result = await service.listPaymentModes(serviceContext(c), {
    county: q.county,
    on: q.on,
    after,
    limit: q.limit + 1,
  });
  const page = paginate(
    result.rows,
    q.limit,
    (r) => ({
      county_code: r.county.code,
      county_name: r.county.name,
      in_force: toInForce(r.inForce),
      settings: r.settings.map((s) => ({ ...toSetting(s), name: r.county.name })),
      villages: r.villages.map((v) => ({
        code: v.code,
        name: v.name,
        in_force: toInForce(v.inForce),
        settings: v.settings.map(toSetting),
      })),
    }),
    (r) => r.county.code,
  );
  return c.json({ on: result.on, ...page }, 200);
};

export const setMode: RouteHandler<typeof setPaymentMode, AppEnv> = async (c) => {
  const { code, from } = c.req.valid('param');
  const result = await service.setPaymentMode(serviceContext(c), code, from, c.req.valid('json'));
  const body = toSetting(result.setting);
  return result.created ? c.json(body, 201) : c.json(body, 200);
};

export const deleteMode: RouteHandler<typeof deletePaymentMode, AppEnv> = async (c) => {
  const { code, from } = c.req.valid('param');
  await service.deletePaymentMode(serviceContext(c), code, from);
  return c.body(null, 204);
};
