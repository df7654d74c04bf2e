/**
 * @houfu/sdk: the typed client of the Houfu 后扶 API.
 *
 * `paths`/`components`/`operations` are generated from the API's OpenAPI document
 * (`pnpm sdk:generate`); the client is openapi-fetch with auth, idempotency keys, retries and
 * pagination on top.
 */
export {
  type BankFileFormat,
  type BankReturn,
  type BankReturnFile,
  type ClientCredentials,
  type ClientPaths,
  CSV_MEDIA_TYPE,
  createHoufuClient,
  DEFAULT_BASE_URL,
  type Disbursement,
  type Downloaded,
  type DownloadInit,
  type DownloadPath,
  dispositionFilename,
  type ExportBankFileOptions,
  type FetchLike,
  type HoufuClient,
  type HoufuClientOptions,
  type Import,
  type ImportFile,
  type Job,
  JobTimeoutError,
  type PageItem,
  type PaginatedPath,
  type PaginateInit,
  parseRetryAfter,
  type RetryOptions,
  TOKEN_PATH,
  type TokenSource,
  type UploadBankReturnOptions,
  type UploadImportOptions,
  type WaitForJobOptions,
  XLSX_MEDIA_TYPE,
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
/** 户: a household of a county. */
export type Household = Schemas['Household'];
export type HouseholdWithMembers = Schemas['HouseholdWithMembers'];
export type CreateHousehold = Schemas['CreateHousehold'];
/** 移民: a registered person, ID number and bank account masked. */
export type Person = Schemas['Person'];
export type CreatePerson = Schemas['CreatePerson'];
export type UpdatePerson = Schemas['UpdatePerson'];
/** 人口变动: a dated status change with its evidence. */
export type PersonEvent = Schemas['PersonEvent'];
export type CreatePersonEvent = Schemas['CreatePersonEvent'];
/** A person's status on a date. */
export type PersonStatus = Schemas['PersonStatus'];
export type ImportCounts = Schemas['ImportCounts'];
/** 发放批次 with its bank outcomes, accuracy and excluded persons per reason. */
export type DisbursementDetail = Schemas['DisbursementDetail'];
export type CreateDisbursement = Schemas['CreateDisbursement'];
/** 发放明细: one payment line of a batch, account and ID masked. */
export type PaymentLine = Schemas['PaymentLine'];
/** 未发放: a person a batch does not pay, and why. */
export type PaymentExclusion = Schemas['PaymentExclusion'];
/** 待核查: a return-file row queued for review. */
export type ReturnException = Schemas['ReturnException'];
export type DisbursementSummary = Schemas['DisbursementSummary'];
