/**
 * @houfu/sdk: the typed client of the Houfu 后扶 API.
 *
 * `paths`/`components`/`operations` are generated from the API's OpenAPI document
 * (`pnpm sdk:generate`); the client is openapi-fetch with auth, idempotency keys, retries and
 * pagination on top.
 */
export {
  type ClientCredentials,
  createHoufuClient,
  DEFAULT_BASE_URL,
  type FetchLike,
  type HoufuClient,
  type HoufuClientOptions,
  type PageItem,
  type PaginatedPath,
  type PaginateInit,
  parseRetryAfter,
  type RetryOptions,
  TOKEN_PATH,
  type TokenSource,
} from './client.js';
export {
  type FieldError,
  HoufuApiError,
  type Problem,
  type ProblemCode,
  UNKNOWN_ERROR_CODE,
  unwrap,
} from './errors.js';
export type { components, operations, paths } from './schema.js';

import type { components } from './schema.js';

type Schemas = components['schemas'];

/** 乡镇/街道 or 村/社区 inside a county. */
export type Locality = Schemas['Locality'];
export type CreateLocality = Schemas['CreateLocality'];
export type UpdateLocality = Schemas['UpdateLocality'];
/** 行政区划: a division of the GB/T 2260 dictionary. */
export type Division = Schemas['Division'];
export type DivisionDetail = Schemas['DivisionDetail'];
/** 审计记录: one audited mutation. */
export type AuditEvent = Schemas['AuditEvent'];
export type AuditVerification = Schemas['AuditVerification'];
export type ChainVerification = Schemas['ChainVerification'];
/** The caller: subject, division, roles, permissions and visible scope. */
export type Me = Schemas['Me'];
export type TokenResponse = Schemas['TokenResponse'];
export type Health = Schemas['Health'];
