import { z } from '@hono/zod-openapi';
import {
  isLocalityCode,
  parseNationalId,
  personStatuses,
  relationships,
  relocateeKinds,
  removalEffectiveRules,
  removalReasons,
} from '@houfu/domain';
import { ifMatchHeader } from '../../lib/etag.js';
import { pageQuery, pageSchema } from '../../lib/pagination.js';
import {
  divisionCodeParam,
  idParam,
  isoDate,
  localityCodeParam,
  placeCode,
  plainText,
  uuid,
} from '../../lib/params.js';
import { json, problem, protectedRoute } from '../../lib/route.js';
import { idempotency, idempotencyHeader } from '../../middleware/idempotency.js';

// The domain's value lists, as OpenAPI-aware schemas.
export const relationshipSchema = z.enum(relationships);
export const relocateeKindSchema = z.enum(relocateeKinds);
export const removalReasonSchema = z.enum(removalReasons);
export const personStatusSchema = z.enum(personStatuses);

const etagHeaders = z.object({ etag: z.string().openapi({ example: '"v1"' }) });

const villageCode = z
  .number()
  .int()
  .refine((n) => isLocalityCode(n) && n % 1000 !== 0, 'Not a 12-digit village code')
  .openapi({ description: '12-digit statistical code of a village of your county.', example: 420581100201 });

const nationalIdMessages = {
  length: 'A national ID number has 18 characters',
  format: '17 digits followed by a digit or X',
  address: 'The first six digits are not a GB/T 2260 division code',
  birth_date: 'Digits 7–14 are not a birth date',
  future_birth_date: 'The birth date is in the future',
  checksum: 'The check digit does not match (ISO 7064 MOD 11-2)',
} as const;

/** An 18-character resident ID number 居民身份证号码, validated (address, birth date, check digit). */
const nationalId = z
  .string()
  .trim()
  .max(18)
  .superRefine((value, ctx) => {
    const parsed = parseNationalId(value);
    if (!parsed.ok) ctx.addIssue({ code: 'custom', message: nationalIdMessages[parsed.error] });
  })
  .openapi({
    description: '18-character resident ID number (GB 11643-1999); sex and birth date are derived from it.',
    pattern: '^\\d{17}[\\dXx]$',
    example: '420581197001010012',
  });

const bankAccount = z
  .string()
  .max(30)
  .regex(/^\d{8,30}$/, 'A bank account is 8–30 digits')
  .openapi({
    description: 'Account or 一卡通 card number the subsidy is paid to.',
    example: '6228480012345678901',
  });

export const PersonSchema = z
  .object({
    id: z.uuid(),
    county_code: z.number().int().openapi({ example: 420581 }),
    household_id: z.uuid(),
    household_no: z.string().openapi({ example: '0001' }),
    village_code: z.number().int().openapi({ example: 420581100201 }),
    relationship: relationshipSchema.openapi({ description: '与户主关系.', example: 'head' }),
    name: z.string().openapi({ example: '张三' }),
    national_id_masked: z
      .string()
      .openapi({ description: 'First 6 and last 4 characters only.', example: '420581********0012' }),
    sex: z.enum(['male', 'female']),
    birth_date: z.string().openapi({ format: 'date', example: '1970-01-01' }),
    reservoir: z
      .string()
      .openapi({ description: 'The reservoir the person was moved for.', example: '三峡水库' }),
    relocation_date: z.string().openapi({ format: 'date', example: '2003-05-01' }),
    relocatee_kind: relocateeKindSchema.openapi({ description: '`original` 原迁移民 or `other` 其他.' }),
    registered_on: z.string().openapi({ format: 'date', example: '2006-07-01' }),
    bank_name: z.string().nullable().openapi({ example: '农村信用社' }),
    bank_account_masked: z.string().nullable().openapi({ example: '****8901' }),
    status: personStatusSchema.openapi({
      description: 'Status after every recorded event (see `/status` for the status on a given date).',
      example: 'registered',
    }),
    open_conflict: z
      .boolean()
      .openapi({ description: 'The same national ID is also registered in another county (unresolved).' }),
    version: z.number().int().openapi({ example: 1 }),
    created_at: z.string().openapi({ example: '2026-11-22T02:10:00.000Z' }),
    updated_at: z.string().openapi({ example: '2026-11-22T02:10:00.000Z' }),
  })
  .openapi('Person', {
    description: '移民: a resettled person registered in a county. ID number and bank account are masked.',
  });

export const HouseholdSchema = z
  .object({
    id: z.uuid(),
    county_code: z.number().int().openapi({ example: 420581 }),
    household_no: z.string().openapi({ example: '0001' }),
    village_code: z.number().int().openapi({ example: 420581100201 }),
    members: z.number().int().openapi({ description: 'Registered persons of any status.', example: 4 }),
    version: z.number().int().openapi({ example: 1 }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi('Household', { description: '户: a household of a county, settled in one of its villages.' });

const HouseholdWithMembersSchema = HouseholdSchema.extend({ persons: z.array(PersonSchema) }).openapi(
  'HouseholdWithMembers',
);

export const PersonEventSchema = z
  .object({
    id: z.uuid(),
    person_id: z.uuid(),
    kind: z.enum(['moved_in', 'death', 'moved_out', 'removed', 're_registered', 'correction']).openapi({
      description: '迁入 / 死亡 / 迁出 / 核减 / 重新登记 / 更正 (voids the event named by `corrects_id`).',
    }),
    effective_date: z.string().openapi({ format: 'date', example: '2013-03-15' }),
    takes_effect: z.string().nullable().openapi({
      format: 'date',
      description:
        'When the event changes the status under the province’s rule (removals may wait for 1 January or the annual review); null while pending or when voided.',
    }),
    voided: z.boolean().openapi({ description: 'A later correction voided this event.' }),
    reason: removalReasonSchema.nullable(),
    destination_code: z.number().int().nullable().openapi({ description: 'Division moved to (moved_out).' }),
    destination_note: z.string().nullable(),
    origin_code: z.number().int().nullable().openapi({ description: 'Division moved from (moved_in).' }),
    corrects_id: z.uuid().nullable(),
    evidence_ref: z
      .string()
      .openapi({ description: 'Certificate or document number.', example: '死亡证明 2013-0042' }),
    note: z.string().nullable(),
    recorded_at: z.string(),
    recorded_by: z.string(),
  })
  .openapi('PersonEvent', { description: '人口变动: a dated status change with its evidence.' });

// ── Households ─────────────────────────────────────────────────────────────────────────────────

export const listHouseholds = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/households',
  operationId: 'listHouseholds',
  tags: ['registry'],
  summary: 'List households',
  description: 'Households of the counties in your scope, ordered by county and household number.',
  request: {
    query: z.object({
      county: divisionCodeParam.optional().openapi({ description: 'Only this county.', example: 420581 }),
      village: localityCodeParam
        .optional()
        .openapi({ description: 'Only this village.', example: 420581100201 }),
      household_no: plainText(40).optional().openapi({ description: 'Exact household number.' }),
      ...pageQuery,
    }),
  },
  responses: { 200: json(pageSchema(HouseholdSchema, 'HouseholdPage'), 'A page of households.') },
});

export const CreateHouseholdSchema = z
  .strictObject({
    household_no: plainText(40).openapi({ description: '户编号, unique in the county.', example: '0001' }),
    village_code: villageCode,
  })
  .openapi('CreateHousehold');

export const createHousehold = protectedRoute('registry:write', {
  method: 'post',
  path: '/v1/households',
  operationId: 'createHousehold',
  tags: ['registry'],
  summary: 'Register a household',
  description: 'Adds a household to your county, settled in one of its active villages.',
  middleware: [idempotency({ required: false })],
  request: {
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: CreateHouseholdSchema } } },
  },
  responses: {
    201: { ...json(HouseholdSchema, 'Created.'), headers: etagHeaders.extend({ location: z.string() }) },
    409: problem('The household number is taken.'),
    422: problem('The village is not an active village of your county.'),
  },
});

export const getHousehold = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/households/{id}',
  operationId: 'getHousehold',
  tags: ['registry'],
  summary: 'Get a household with its members',
  description:
    'One household and every person registered in it (head first, masked); `ETag` carries its version.',
  request: { params: idParam },
  responses: {
    200: { ...json(HouseholdWithMembersSchema, 'The household, head first.'), headers: etagHeaders },
    404: problem('No such household in your scope.'),
  },
});

export const UpdateHouseholdSchema = z
  .strictObject({ village_code: villageCode })
  .openapi('UpdateHousehold', { description: 'Resettle the household in another village of the county.' });

export const updateHousehold = protectedRoute('registry:write', {
  method: 'patch',
  path: '/v1/households/{id}',
  operationId: 'updateHousehold',
  tags: ['registry'],
  summary: 'Move a household to another village',
  description: 'Conditional update: send `If-Match` with the `ETag` of your last read.',
  request: {
    params: idParam,
    headers: ifMatchHeader,
    body: { required: true, content: { 'application/json': { schema: UpdateHouseholdSchema } } },
  },
  responses: {
    200: { ...json(HouseholdSchema, 'Updated.'), headers: etagHeaders },
    404: problem('No such household in your county.'),
    412: problem('The household changed since your read.'),
    422: problem('The village is not an active village of your county.'),
    428: problem('If-Match is missing.'),
  },
});

// ── Persons ────────────────────────────────────────────────────────────────────────────────────

export const listPersons = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/persons',
  operationId: 'listPersons',
  tags: ['registry'],
  summary: 'List registered persons',
  description:
    'Persons of the counties in your scope, ID numbers and accounts masked. `q` is a name prefix, or a full 18-character ID number for an exact match.',
  request: {
    query: z.object({
      county: divisionCodeParam.optional().openapi({ description: 'Only this county.', example: 420581 }),
      township: localityCodeParam
        .optional()
        .openapi({ description: 'Only this township.', example: 420581100000 }),
      village: localityCodeParam
        .optional()
        .openapi({ description: 'Only this village.', example: 420581100201 }),
      household_id: uuid().optional(),
      status: z.enum(['registered', 'deceased', 'moved_out', 'removed']).optional(),
      reservoir: plainText(100).optional().openapi({ example: '三峡水库' }),
      relocation_year: z
        .string()
        .regex(/^\d{4}$/, 'Expected a year')
        .transform(Number)
        .optional()
        .openapi({ type: 'integer', minimum: 0, maximum: 9999, example: 2003 }),
      relocatee_kind: relocateeKindSchema.optional(),
      q: plainText(50)
        .optional()
        .openapi({ description: 'Name prefix, or a full national ID number.', example: '张' }),
      ...pageQuery,
    }),
  },
  responses: { 200: json(pageSchema(PersonSchema, 'PersonPage'), 'A page of persons.') },
});

export const CreatePersonSchema = z
  .strictObject({
    household_id: uuid().openapi({ description: 'A household of your county (create it first).' }),
    relationship: relationshipSchema,
    name: plainText(50).openapi({ example: '张三' }),
    national_id: nationalId,
    sex: z
      .enum(['male', 'female'])
      .optional()
      .openapi({ description: 'Optional: when sent, it must match the ID number.' }),
    birth_date: isoDate
      .optional()
      .openapi({ description: 'Optional: when sent, it must match the ID number.', example: '1970-01-01' }),
    reservoir: plainText(100).openapi({ example: '三峡水库' }),
    relocation_date: isoDate.openapi({ description: '搬迁日期: when the move was completed.' }),
    relocatee_kind: relocateeKindSchema,
    registered_on: isoDate.optional().openapi({
      description:
        '登记日期; default: today for a registration by transfer (`moved_in`), else the relocation date (resettlers are on the registry from their move).',
      example: '2006-07-01',
    }),
    bank_name: plainText(100).optional().openapi({ example: '农村信用社' }),
    bank_account: bankAccount.optional(),
    moved_in: z
      .strictObject({
        origin_code: placeCode.openapi({ description: 'Division the person moved from.', example: 500101 }),
        evidence_ref: plainText(200).openapi({ example: '迁移证 2026-0031' }),
        note: plainText(500).optional(),
      })
      .optional()
      .openapi({ description: 'Registration by transfer 迁入 from another county or province.' }),
  })
  .refine((v) => (v.bank_account === undefined) === (v.bank_name === undefined), {
    message: 'Send bank_name and bank_account together',
    path: ['bank_account'],
  })
  .openapi('CreatePerson', {
    example: {
      household_id: '0b6c6f7e-2d0a-4c1e-9f3a-6a2f0e9f1c11',
      relationship: 'spouse',
      name: '李秀英',
      national_id: '420581197001010020',
      reservoir: '三峡水库',
      relocation_date: '2003-05-01',
      relocatee_kind: 'original',
      registered_on: '2006-07-01',
      bank_name: '农村信用社',
      bank_account: '6228480012345678901',
    },
  });

export const createPerson = protectedRoute('registry:write', {
  method: 'post',
  path: '/v1/persons',
  operationId: 'createPerson',
  tags: ['registry'],
  summary: 'Register a person',
  description:
    'Registers a person in one of your households. The ID number is validated and stored sealed; when it is also registered in another county, a conflict opens for the reviewing division (`open_conflict: true`).',
  middleware: [idempotency({ required: false })],
  request: {
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: CreatePersonSchema } } },
  },
  responses: {
    201: { ...json(PersonSchema, 'Registered.'), headers: etagHeaders.extend({ location: z.string() }) },
    409: problem('The ID number is already registered in your county.'),
    422: problem('Unknown household, sex or birth date contradicting the ID number, or dates out of order.'),
  },
});

export const getPerson = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/persons/{id}',
  operationId: 'getPerson',
  tags: ['registry'],
  summary: 'Get a person',
  description:
    'One person, ID number and bank account masked; `ETag` carries the version for a later update.',
  request: { params: idParam },
  responses: {
    200: { ...json(PersonSchema, 'The person; `ETag` carries the version.'), headers: etagHeaders },
    404: problem('No such person in your scope.'),
  },
});

export const UpdatePersonSchema = z
  .strictObject({
    household_id: uuid().optional().openapi({ description: 'Move to another household of the county.' }),
    relationship: relationshipSchema.optional(),
    name: plainText(50).optional(),
    national_id: nationalId.optional().openapi({ description: 'Correct a mistyped ID number.' }),
    reservoir: plainText(100).optional(),
    relocation_date: isoDate.optional(),
    relocatee_kind: relocateeKindSchema.optional(),
    bank_name: plainText(100).nullable().optional().openapi({ example: '农村信用社' }),
    bank_account: bankAccount.nullable().optional().openapi({ description: 'null removes the account.' }),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'Send at least one field' })
  .refine((v) => (v.bank_account === undefined) === (v.bank_name === undefined), {
    message: 'Send bank_name and bank_account together',
    path: ['bank_account'],
  })
  .openapi('UpdatePerson', {
    description: 'Status is never edited: record an event instead.',
    example: { name: '张三丰', bank_name: '农村信用社', bank_account: '6228480012345678901' },
  });

export const updatePerson = protectedRoute('registry:write', {
  method: 'patch',
  path: '/v1/persons/{id}',
  operationId: 'updatePerson',
  tags: ['registry'],
  summary: 'Correct a person’s details',
  description:
    'Conditional update: send `If-Match` with the `ETag` of your last read. Audited field by field.',
  request: {
    params: idParam,
    headers: ifMatchHeader,
    body: { required: true, content: { 'application/json': { schema: UpdatePersonSchema } } },
  },
  responses: {
    200: { ...json(PersonSchema, 'Updated.'), headers: etagHeaders },
    404: problem('No such person in your county.'),
    409: problem('The new ID number is already registered in your county.'),
    412: problem('The person changed since your read.'),
    422: problem('Unknown household.'),
    428: problem('If-Match is missing.'),
  },
});

export const RevealSchema = z
  .strictObject({
    reason: plainText(200).min(4).openapi({
      description: 'Why you need the full values; kept in the audit trail.',
      example: '核对银行退票信息',
    }),
    fields: z
      .array(z.enum(['national_id', 'bank_account']))
      .min(1)
      .max(2)
      .default(['national_id', 'bank_account'])
      .openapi({ example: ['bank_account'] }),
  })
  .openapi('RevealRequest');

export const revealPerson = protectedRoute('registry:reveal', {
  method: 'post',
  path: '/v1/persons/{id}/reveal',
  operationId: 'revealPerson',
  tags: ['registry'],
  summary: 'Reveal a person’s full ID number or bank account',
  description:
    'For a county’s own staff who must see the full values (bank corrections, identity checks). Every call is audited with its reason; responses are never cached.',
  request: {
    params: idParam,
    body: { required: true, content: { 'application/json': { schema: RevealSchema } } },
  },
  responses: {
    200: json(
      z
        .object({
          person_id: z.uuid(),
          national_id: z.string().optional().openapi({ example: '420581197001010012' }),
          bank_account: z.string().nullable().optional().openapi({ example: '6228480012345678901' }),
        })
        .openapi('RevealedPerson'),
      'The requested values.',
    ),
    404: problem('No such person in your county.'),
  },
});

// ── Events and status ──────────────────────────────────────────────────────────────────────────

export const listPersonEvents = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/persons/{id}/events',
  operationId: 'listPersonEvents',
  tags: ['registry'],
  summary: 'A person’s status history',
  description: 'Every recorded event in date order, with when it takes effect under the province’s rule.',
  request: { params: idParam },
  responses: {
    200: json(z.object({ data: z.array(PersonEventSchema) }).openapi('PersonEventList'), 'The history.'),
    404: problem('No such person in your scope.'),
  },
});

export const CreatePersonEventSchema = z
  .strictObject({
    kind: z.enum(['death', 'moved_out', 'removed', 're_registered', 'correction']),
    effective_date: isoDate.openapi({ description: 'The date on the evidence.', example: '2013-03-15' }),
    reason: removalReasonSchema.optional().openapi({ description: 'Required for `removed`.' }),
    destination_code: placeCode.optional().openapi({
      description: 'Required for `moved_out`: the county or province moved to.',
      example: 500101,
    }),
    destination_note: plainText(200).optional(),
    corrects_id: uuid().optional().openapi({ description: 'Required for `correction`: the event it voids.' }),
    evidence_ref: plainText(200).openapi({ example: '死亡证明 2013-0042' }),
    note: plainText(500).optional(),
  })
  .superRefine((v, ctx) => {
    // Each detail belongs to one kind: required there, refused elsewhere.
    const owners = [
      ['reason', 'removed'],
      ['destination_code', 'moved_out'],
      ['destination_note', 'moved_out'],
      ['corrects_id', 'correction'],
    ] as const;
    for (const [field, kind] of owners) {
      const present = v[field] !== undefined;
      if (present && v.kind !== kind) {
        ctx.addIssue({ code: 'custom', path: [field], message: `Only for kind ${kind}` });
      } else if (!present && v.kind === kind && field !== 'destination_note') {
        ctx.addIssue({ code: 'custom', path: [field], message: `Required for kind ${kind}` });
      }
    }
  })
  .openapi('CreatePersonEvent', {
    example: { kind: 'death', effective_date: '2013-03-15', evidence_ref: '死亡证明 2013-0042' },
  });

export const createPersonEvent = protectedRoute('registry:write', {
  method: 'post',
  path: '/v1/persons/{id}/events',
  operationId: 'createPersonEvent',
  tags: ['registry'],
  summary: 'Record a status change',
  description:
    'Death, move out, removal (核减: civil servant, non-agricultural hukou, imprisonment, other), re-registration, or a correction voiding an earlier event. The status follows from the events.',
  middleware: [idempotency({ required: false })],
  request: {
    params: idParam,
    headers: idempotencyHeader(false),
    body: { required: true, content: { 'application/json': { schema: CreatePersonEventSchema } } },
  },
  responses: {
    201: json(
      z.object({ event: PersonEventSchema, person: PersonSchema }).openapi('RecordedPersonEvent'),
      'Recorded; the person with the new status.',
    ),
    404: problem('No such person in your county.'),
    422: problem(
      'The change does not fit the history (e.g. already deceased, not removed, date in the future or before registration).',
    ),
  },
});

export const getPersonStatus = protectedRoute('registry:read', {
  method: 'get',
  path: '/v1/persons/{id}/status',
  operationId: 'getPersonStatus',
  tags: ['registry'],
  summary: 'A person’s status on a date',
  description:
    'Derived from the events and the province’s removal rule; `supported` also checks the support window.',
  request: {
    params: idParam,
    query: z.object({
      on: isoDate.optional().openapi({ description: 'Default: today.', example: '2013-12-31' }),
    }),
  },
  responses: {
    200: json(
      z
        .object({
          person_id: z.uuid(),
          on: z.string().openapi({ format: 'date' }),
          status: personStatusSchema,
          supported: z
            .boolean()
            .openapi({ description: 'Registered and inside the support window on the date.' }),
          support_window: z.object({
            from: z.string().openapi({ format: 'date', example: '2006-07-01' }),
            until: z.string().openapi({ format: 'date', example: '2026-06-30' }),
          }),
          removal_rule: z.enum(removalEffectiveRules),
        })
        .openapi('PersonStatus'),
      'The status on the date.',
    ),
    404: problem('No such person in your scope.'),
  },
});
