import { z } from '@hono/zod-openapi';
import {
  divisionLevel,
  isDivisionCode,
  isLocalityCode,
  localityLevel,
  policyParameterIds,
} from '@houfu/domain';
import { pageQuery } from '../../lib/pagination.js';
import { divisionCodeParam, isoDate, plainText } from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';

const TAGS = ['policy'];

// ── Shared pieces ──────────────────────────────────────────────────────────────────────────────

const sourceText = plainText(200).openapi({
  description: 'Citation 依据 of the value: the document that decided it.',
  example: '鄂政办发〔2026〕12号',
});
const levelSchema = z.enum(['national', 'province']).openapi({
  description: '`national`: the national default; `province`: the province’s own value (in code or stored).',
  example: 'province',
});
const timestamp = (example: string) => z.string().openapi({ example, format: 'date-time' });

const parameterIdParam = z
  .string()
  .max(100)
  .regex(/^[a-z]+(\.[a-z_]+)+$/, 'Not a policy parameter id')
  .openapi({
    param: { name: 'parameter', in: 'path' },
    description: `A policy parameter: ${policyParameterIds.map((id) => `\`${id}\``).join(', ')}.`,
    example: 'subsidy.annual_standard',
  });
const provinceParam = divisionCodeParam.openapi({
  param: { name: 'province', in: 'path' },
  description: 'The province (GB/T 2260 code ending in 0000): your own.',
  example: 420000,
});
const fromParam = isoDate.openapi({
  param: { name: 'from', in: 'path' },
  description: 'First day the value is in force (inclusive), until the next value.',
  example: '2027-01-01',
});

const ValueSchema = z.unknown().openapi({
  description: 'The value, valid by the parameter’s `value_schema`.',
  example: 72000,
});

const DatedValueSchema = z
  .object({
    from: z.string().openapi({ format: 'date', example: '2006-07-01' }),
    value: ValueSchema,
    source: z.string().openapi({ example: '国发〔2006〕17号' }),
  })
  .openapi('PolicyValue', {
    description: 'One dated value of a parameter: in force from `from` until the next.',
  });

const ProvinceValueSchema = z
  .object({
    from: z.string().openapi({ format: 'date', example: '2027-01-01' }),
    value: ValueSchema,
    source: z.string().openapi({ example: '鄂政办发〔2026〕12号' }),
    stored: z.boolean().openapi({
      description: '`false`: defined in code (reviewed with the code); `true`: set through this API.',
      example: true,
    }),
    set_by: z.string().nullable().openapi({ example: 'user:wang.fang' }),
    set_at: z.string().nullable().openapi({ format: 'date-time', example: '2026-11-22T02:00:00.000Z' }),
  })
  .openapi('PolicyProvinceValue', { description: 'A province’s own dated value 省级设定.' });

const InForceSchema = z
  .object({
    from: z.string().openapi({ format: 'date', example: '2006-07-01' }),
    value: ValueSchema,
    source: z.string().openapi({ example: '国发〔2006〕17号' }),
    level: levelSchema,
  })
  .openapi('PolicyValueInForce', { description: 'The value in force on `on`, and where it comes from.' });

export const PolicyParameterSchema = z
  .object({
    id: z.enum(policyParameterIds as [string, ...string[]]).openapi({ example: 'subsidy.annual_standard' }),
    description: z.string().openapi({
      example:
        'Annual standard of the direct subsidy (扶持标准), in fen per person per year: 600 yuan (60000 fen) nationally.',
    }),
    value_schema: z.record(z.string(), z.unknown()).openapi({
      description: 'JSON Schema of a value (what `PUT …/values/{from}` accepts).',
      example: { type: 'integer', minimum: 1, maximum: 10000000 },
    }),
    national: z.array(DatedValueSchema).openapi({ description: 'National defaults 全国默认值, by date.' }),
    province: z
      .object({
        code: z.number().int().openapi({ example: 420000 }),
        name: z.string().openapi({ example: '湖北省' }),
        values: z.array(ProvinceValueSchema),
      })
      .nullable()
      .openapi({
        description:
          'The province’s own values, by date (a stored value replaces a code value of the same date); null for national values only.',
      }),
    on: z.string().openapi({ format: 'date', example: '2026-11-22' }),
    in_force: InForceSchema.nullable().openapi({
      description:
        'The value in force on `on` for the province (or nationally); null before the policy began.',
    }),
  })
  .openapi('PolicyParameter', {
    description:
      'A policy parameter 政策参数: national defaults, the province’s values and the one in force.',
  });

const readQuery = z.object({
  province: divisionCodeParam.optional().openapi({
    description:
      'A province (policy is public: any one). Default: your province (a national caller: national values only).',
    example: 420000,
  }),
  on: isoDate
    .optional()
    .openapi({ description: 'The day `in_force` is for; default today.', example: '2026-11-22' }),
});

// ── Parameters ─────────────────────────────────────────────────────────────────────────────────

export const listPolicyParameters = protectedRoute('policy:read', {
  method: 'get',
  path: '/v1/policy/parameters',
  operationId: 'listPolicyParameters',
  tags: TAGS,
  summary: 'List the policy parameters with national and province values',
  description:
    'Every policy parameter 政策参数 a province may set (annual standard, payment frequency, payment mode, support window, removal rule): its description, the JSON Schema of a value, the national defaults, the province’s own values (defined in code, `stored: false`, or set through this API, `stored: true` with who and when) and the value in force on `on`. Policy is public: any caller reads any province (default: your own).',
  request: { query: readQuery },
  responses: {
    200: json(
      z.object({ data: z.array(PolicyParameterSchema) }).openapi('PolicyParameterList'),
      'Every parameter, in a stable order.',
    ),
    404: problem('The province is not in the dictionary.'),
  },
});

export const getPolicyParameter = protectedRoute('policy:read', {
  method: 'get',
  path: '/v1/policy/parameters/{parameter}',
  operationId: 'getPolicyParameter',
  tags: TAGS,
  summary: 'Read one policy parameter',
  description:
    'One policy parameter with its national defaults, the province’s values and the value in force on `on`, as in the list.',
  request: { params: z.object({ parameter: parameterIdParam }), query: readQuery },
  responses: {
    200: json(PolicyParameterSchema, 'The parameter.'),
    404: problem('No such parameter, or the province is not in the dictionary.'),
  },
});

const overrideParams = z.object({ parameter: parameterIdParam, province: provinceParam, from: fromParam });

export const SetPolicyOverrideSchema = z
  .strictObject({
    value: ValueSchema.refine((v) => v !== undefined, 'Required'),
    source: sourceText,
  })
  .openapi('SetPolicyOverride', {
    description: 'A province’s value of the parameter from a date, with its citation.',
    example: { value: 72000, source: '鄂政办发〔2026〕12号' },
  });

export const PolicyOverrideSchema = z
  .object({
    parameter: z.string().openapi({ example: 'subsidy.annual_standard' }),
    province_code: z.number().int().openapi({ example: 420000 }),
    from: z.string().openapi({ format: 'date', example: '2027-01-01' }),
    value: ValueSchema,
    source: z.string().openapi({ example: '鄂政办发〔2026〕12号' }),
    set_by: z.string().openapi({ example: 'user:wang.fang' }),
    set_at: timestamp('2026-11-22T02:00:00.000Z'),
    statuses_changed: z.number().int().openapi({
      description: 'Persons whose stored status changed with it (a change of `registry.removal_effective`).',
      example: 0,
    }),
  })
  .openapi('PolicyOverride', { description: 'A stored province value 省级设定.' });

const FROZEN =
  '`policy_frozen`: `from` is not after the last period of an approved (or exported, reconciling, closed) payment batch of the province — frozen batches are never changed retroactively.';

export const setPolicyOverride = protectedRoute('policy:write', {
  method: 'put',
  path: '/v1/policy/parameters/{parameter}/provinces/{province}/values/{from}',
  operationId: 'setPolicyOverride',
  tags: TAGS,
  summary: 'Set the province’s value of a parameter from a date',
  description: `Creates (201) or replaces (200) your province’s stored value of the parameter in force from \`from\`, validated by the parameter’s schema (400 naming \`value\`). Only the province itself (its administrator). ${FROZEN} Audited as \`policy.override.set\` with the old and new value. Changing \`registry.removal_effective\` re-derives the stored status of the province’s persons with a removal 核减. Sending the stored value again changes nothing.`,
  request: {
    params: overrideParams,
    body: { required: true, content: { 'application/json': { schema: SetPolicyOverrideSchema } } },
  },
  responses: {
    200: json(PolicyOverrideSchema, 'Replaced (or unchanged).'),
    201: json(PolicyOverrideSchema, 'Created.'),
    403: problem('Not your province, or the permission is missing.'),
    404: problem('No such parameter.'),
    409: problem(FROZEN),
    422: problem('`from` is before the policy began (2006-07-01).'),
  },
});

export const deletePolicyOverride = protectedRoute('policy:write', {
  method: 'delete',
  path: '/v1/policy/parameters/{parameter}/provinces/{province}/values/{from}',
  operationId: 'deletePolicyOverride',
  tags: TAGS,
  summary: 'Delete the province’s stored value from a date',
  description: `Deletes your province’s stored value of the parameter from \`from\` (values defined in code cannot be deleted); the previous value stays in force. ${FROZEN} Audited as \`policy.override.delete\`.`,
  request: { params: overrideParams },
  responses: {
    204: { description: 'Deleted.' },
    403: problem('Not your province, or the permission is missing.'),
    404: problem('No such parameter, or no stored value from that date.'),
    409: problem(FROZEN),
  },
});

// ── Payment modes 扶持方式 ────────────────────────────────────────────────────────────────────────

const modeSchema = z.enum(['cash', 'project', 'both']).openapi({
  description:
    '`cash` 直补到人, `project` 项目扶持, `both` 直补与项目结合 (`cash_percent` paid to the person).',
  example: 'both',
});

const ModeInForceSchema = z
  .object({
    mode: modeSchema,
    cash_percent: z.number().int().openapi({ example: 70, description: '100 for cash, 0 for project.' }),
    from: z.string().openapi({ format: 'date', example: '2026-01-01' }),
    source: z.string().openapi({ example: '宜都市政府常务会议纪要〔2025〕9号' }),
    level: z.enum(['village', 'county', 'province', 'national']).openapi({
      description:
        'Where it comes from: the village’s or county’s own setting, else the province or national parameter.',
      example: 'county',
    }),
  })
  .openapi('PaymentModeInForce', { description: 'The payment mode in force on `on`.' });

export const PaymentModeSettingSchema = z
  .object({
    county_code: z.number().int().openapi({ example: 420581 }),
    code: z.number().int().openapi({
      description: 'The county code (its own setting) or a village’s 12-digit code.',
      example: 420581,
    }),
    level: z.enum(['county', 'village']).openapi({ example: 'county' }),
    name: z.string().nullable().openapi({ example: '宜都市' }),
    from: z.string().openapi({ format: 'date', example: '2026-01-01' }),
    mode: modeSchema,
    cash_percent: z.number().int().openapi({ example: 70 }),
    source: z.string().openapi({ example: '宜都市政府常务会议纪要〔2025〕9号' }),
    set_by: z.string().openapi({ example: 'user:wang.fang' }),
    set_at: timestamp('2026-11-22T02:00:00.000Z'),
  })
  .openapi('PaymentModeSetting', { description: 'A county’s or village’s own dated payment mode 扶持方式.' });

const CountyPaymentModesSchema = z
  .object({
    county_code: z.number().int().openapi({ example: 420581 }),
    county_name: z.string().openapi({ example: '宜都市' }),
    in_force: ModeInForceSchema,
    settings: z
      .array(PaymentModeSettingSchema)
      .openapi({ description: 'The county’s own settings, by date.' }),
    villages: z
      .array(
        z.object({
          code: z.number().int().openapi({ example: 420581100201 }),
          name: z.string().nullable().openapi({ example: '白水港村' }),
          in_force: ModeInForceSchema,
          settings: z.array(PaymentModeSettingSchema),
        }),
      )
      .openapi({ description: 'Villages with settings of their own, by code.' }),
  })
  .openapi('CountyPaymentModes', { description: 'A county’s payment modes and the one in force.' });

export const listPaymentModes = protectedRoute('policy:read', {
  method: 'get',
  path: '/v1/policy/payment-modes',
  operationId: 'listPaymentModes',
  tags: TAGS,
  summary: 'List the payment modes of the counties in your scope',
  description:
    'Per county in your scope (or the one `county`), by code: the mode in force on `on` (the county’s own setting, else the province’s or the national `subsidy.payment_mode`), the county’s dated settings and those of its villages with settings of their own (each with the mode in force for it: village → county → province/national). Paginated by county.',
  request: {
    query: z.object({
      county: divisionCodeParam
        .optional()
        .openapi({ description: 'Only this county (in your scope).', example: 420581 }),
      on: isoDate
        .optional()
        .openapi({ description: 'The day `in_force` is for; default today.', example: '2026-11-22' }),
      ...pageQuery,
    }),
  },
  responses: {
    200: json(
      z
        .object({
          on: z.string().openapi({ format: 'date', example: '2026-11-22' }),
          data: z.array(CountyPaymentModesSchema),
          next_cursor: z
            .string()
            .nullable()
            .openapi({ description: 'Pass as `cursor` for the next page; null at the end.' }),
        })
        .openapi('CountyPaymentModesPage'),
      'A page of counties.',
    ),
    404: problem('The county is not in your scope.'),
  },
});

const modeCodeParam = z
  .string()
  .regex(/^(\d{6}|\d{12})$/, 'Expected a county code (6 digits) or a village code (12 digits)')
  .transform(Number)
  .refine(
    (n) =>
      n < 1_000_000
        ? isDivisionCode(n) && divisionLevel(n) === 'county'
        : isLocalityCode(n) && localityLevel(n) === 'village',
    'Not a county code or a village code',
  )
  .openapi({
    param: { name: 'code', in: 'path' },
    type: 'integer',
    minimum: 0,
    maximum: 999_999_999_999,
    description: 'A county code (6 digits) or the 12-digit code of one of its villages, in your scope.',
    example: 420581,
  });

const modeParams = z.object({ code: modeCodeParam, from: fromParam });

export const SetPaymentModeSchema = z
  .strictObject({
    mode: modeSchema,
    cash_percent: z.number().int().min(1).max(99).optional().openapi({
      description: 'Share paid to the person in percent: required with `both`, not allowed otherwise.',
      example: 70,
    }),
    source: sourceText.openapi({ example: '宜都市政府常务会议纪要〔2025〕9号' }),
  })
  .superRefine((v, ctx) => {
    if (v.mode === 'both' && v.cash_percent === undefined)
      ctx.addIssue({ code: 'custom', path: ['cash_percent'], message: 'Required with mode both' });
    if (v.mode !== 'both' && v.cash_percent !== undefined)
      ctx.addIssue({ code: 'custom', path: ['cash_percent'], message: 'Only with mode both' });
  })
  .openapi('SetPaymentMode', {
    description: 'A payment mode from a date, with its citation.',
    example: { mode: 'both', cash_percent: 70, source: '宜都市政府常务会议纪要〔2025〕9号' },
  });

const MODE_FROZEN =
  '`policy_frozen`: `from` is not after the last period of an approved (or exported, reconciling, closed) payment batch of the county.';

export const setPaymentMode = protectedRoute('policy:write', {
  method: 'put',
  path: '/v1/policy/payment-modes/{code}/values/{from}',
  operationId: 'setPaymentMode',
  tags: TAGS,
  summary: 'Set a county’s or village’s payment mode from a date',
  description: `Creates (201) or replaces (200) the payment mode 扶持方式 of a county (6-digit code) or one of its villages (12-digit code) in force from \`from\`: \`cash\` (100% to the person), \`project\` (0%) or \`both\` with \`cash_percent\` 1–99. A village’s own setting wins over its county’s, which wins over the province’s parameter. ${MODE_FROZEN} Audited as \`policy.payment_mode.set\` in the county’s trail.`,
  request: {
    params: modeParams,
    body: { required: true, content: { 'application/json': { schema: SetPaymentModeSchema } } },
  },
  responses: {
    200: json(PaymentModeSettingSchema, 'Replaced (or unchanged).'),
    201: json(PaymentModeSettingSchema, 'Created.'),
    404: problem('No such county or village in your scope.'),
    409: problem(MODE_FROZEN),
    422: problem('`from` is before the policy began (2006-07-01).'),
  },
});

export const deletePaymentMode = protectedRoute('policy:write', {
  method: 'delete',
  path: '/v1/policy/payment-modes/{code}/values/{from}',
  operationId: 'deletePaymentMode',
  tags: TAGS,
  summary: 'Delete a county’s or village’s payment mode from a date',
  description: `Deletes the stored payment mode of the county or village from \`from\`; the previous one (or the county’s, or the province’s) applies again. ${MODE_FROZEN} Audited as \`policy.payment_mode.delete\`.`,
  request: { params: modeParams },
  responses: {
    204: { description: 'Deleted.' },
    404: problem('No such county or village in your scope, or no setting from that date.'),
    409: problem(MODE_FROZEN),
  },
});
