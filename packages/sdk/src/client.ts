import createClient, { type Client, type MaybeOptionalInit } from 'openapi-fetch';
import { HoufuApiError, unwrap } from './errors.js';
import type { components, paths } from './schema.js';

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8787';
export const TOKEN_PATH = '/v1/oauth/token';
/** The media type of CSV imports (UTF-8, or GB18030 with `charset=gb18030`). */
export const CSV_MEDIA_TYPE = 'text/csv';
/** The media type of XLSX imports and of the XLSX template. */
export const XLSX_MEDIA_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** A fetch the client sends through: `globalThis.fetch`, or the app's in-process `fetch` in tests. */
export type FetchLike = (input: Request, init?: RequestInit) => Response | Promise<Response>;

/** A bearer token, or a function that returns the current one (called before every request). */
export type TokenSource = string | (() => string | Promise<string>);

/** Integrator credentials (接入方凭据), exchanged at POST /v1/oauth/token for short-lived tokens. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  /** Space-separated scopes (or a list); all of the client's scopes when absent. */
  scope?: string | readonly string[];
}

export interface RetryOptions {
  /** Retries after the first attempt (default 3; 0 turns retrying off). */
  retries?: number;
  /** First backoff step in ms (default 200); doubles each retry, with jitter. */
  baseDelayMs?: number;
  /** Upper bound of any wait, `Retry-After` included (default 30 000 ms). */
  maxDelayMs?: number;
}

export interface HoufuClientOptions {
  /** Default `http://127.0.0.1:8787`. */
  baseUrl?: string;
  /** Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** A user access token (today minted with `houfu token`) or a function returning one. */
  token?: TokenSource;
  /** Integrator client credentials; the client fetches, caches and refreshes its token. */
  clientCredentials?: ClientCredentials;
  /** Retries of 429, 503 and network errors; `false` turns them off. */
  retry?: RetryOptions | false;
  /** Headers sent with every request (e.g. `accept-language`). */
  headers?: Record<string, string>;
}

/** The keys of `T` that are not optional. */
type RequiredKeys<T> = { [K in keyof T]-?: Partial<Pick<T, K>> extends Pick<T, K> ? never : K }[keyof T];

/**
 * An operation whose `Idempotency-Key` header is required by the API, with the header optional:
 * the client adds a key to every POST that has none (`header` itself becomes optional when the key
 * was its only required field).
 */
type WithOptionalIdempotencyKey<Op> = Op extends { parameters: { header: infer H } }
  ? H extends { 'idempotency-key': string }
    ? Omit<Op, 'parameters'> & {
        parameters: Omit<Op['parameters'], 'header'> &
          ([RequiredKeys<Omit<H, 'idempotency-key'>>] extends [never]
            ? { header?: Omit<H, 'idempotency-key'> & { 'idempotency-key'?: string } }
            : { header: Omit<H, 'idempotency-key'> & { 'idempotency-key'?: string } });
      }
    : Op
  : Op;

/**
 * `paths` as the client types its calls: the same operations, with the `Idempotency-Key` the API
 * requires on a few POSTs (`POST /v1/disbursements`, `POST /v1/imports`) optional, since the client
 * sends one with every POST (a key of yours still wins).
 */
export type ClientPaths = {
  [P in keyof paths]: {
    [M in keyof paths[P]]: M extends 'post' ? WithOptionalIdempotencyKey<paths[P][M]> : paths[P][M];
  };
};

type Page<Item> = { data: Item[]; next_cursor: string | null };

/** Paths whose GET is a cursor-paginated list (`{ data, next_cursor }`, takes `cursor`). */
export type PaginatedPath = {
  [P in keyof paths]: paths[P] extends {
    get: {
      parameters: { query?: { cursor?: string } };
      responses: { 200: { content: { 'application/json': Page<unknown> } } };
    };
  }
    ? P
    : never;
}[keyof paths];

/** The item type of a paginated list. */
export type PageItem<P extends PaginatedPath> = paths[P] extends {
  get: { responses: { 200: { content: { 'application/json': Page<infer Item> } } } };
}
  ? Item
  : never;

/** The options of a paginated GET (query filters, `limit`, a starting `cursor`, headers, signal…). */
export type PaginateInit<P extends PaginatedPath> = MaybeOptionalInit<paths[P], 'get'>;

/** 批量导入: one registry import file and its outcome (the 202 body of `POST /v1/imports`). */
export type Import = components['schemas']['Import'];
/** 后台任务: a background job (`GET /v1/jobs/{id}`). */
export type Job = components['schemas']['Job'];

/** An import file: text (sent as UTF-8), bytes (a Node `Buffer` too), a `Blob`/`File`, or a stream of bytes. */
export type ImportFile = string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>;

export interface UploadImportOptions {
  /**
   * `csv` or `xlsx`; by default from the file name's extension (`filename`, or a `File`'s name),
   * then a `Blob`'s type, else `csv`.
   */
  format?: 'csv' | 'xlsx';
  /** The name the API remembers (shown in lists); a `File`'s name by default. */
  filename?: string;
  /**
   * Of a CSV given as bytes, a `Blob` or a stream: declare `gb18030` for a GBK/GB18030 file (without
   * it the API reads a first megabyte that is not valid UTF-8 as GB18030). A string is always UTF-8.
   */
  charset?: 'utf-8' | 'gb18030';
  /**
   * Your `Idempotency-Key`, to make the upload safe across restarts of your program (the same key
   * with the same file answers the first import again). Without it the client generates one, reused
   * by its own retries.
   */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

/** 发放批次: a direct-subsidy payment batch (`GET /v1/disbursements/{id}` adds outcomes and exclusions). */
export type Disbursement = components['schemas']['Disbursement'];
/** 银行回盘: one bank return file applied to a batch (the body of `POST /v1/disbursements/{id}/returns`). */
export type BankReturn = components['schemas']['BankReturn'];

/** The format of a bank file 代发文件: `csv` (UTF-8 with BOM) or `fixed` (fixed-width GB18030 records). */
export type BankFileFormat = 'csv' | 'fixed';

export interface ExportBankFileOptions {
  /** `csv` (default; `text/csv; charset=utf-8`) or `fixed` (`text/plain; charset=gb18030`). */
  format?: BankFileFormat;
  /** Why you download it (2–200 characters, e.g. `报送农业银行宜都支行代发`): every download is audited with it. */
  reason: string;
  signal?: AbortSignal;
}

/** A bank return file: text (sent as UTF-8), bytes (UTF-8 or GB18030, as the bank wrote it), a `Blob`/`File`, or a stream. */
export type BankReturnFile = string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>;

export interface UploadBankReturnOptions {
  /** The name the API remembers with the return (`?filename=`); a `File`'s name by default. */
  filename?: string;
  signal?: AbortSignal;
}

export interface WaitForJobOptions {
  /** The first wait between two polls (default 500 ms); it grows 1.5× per poll up to `maxIntervalMs`. */
  intervalMs?: number;
  /** The longest wait between two polls (default 5 000 ms). */
  maxIntervalMs?: number;
  /** Give up with {@link JobTimeoutError} after this long (default 10 minutes; `Infinity`: never). */
  timeoutMs?: number;
  /** Stops waiting: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called with every job state read (e.g. to show `phase` and `progress`). */
  onPoll?: (job: Job) => void;
}

/** {@link HoufuClient.waitForJob} ran out of time; the job itself goes on. */
export class JobTimeoutError extends Error {
  override readonly name = 'JobTimeoutError';
  readonly jobId: string;
  readonly timeoutMs: number;
  /** The last state read, if any. */
  readonly job: Job | undefined;

  constructor(jobId: string, timeoutMs: number, job: Job | undefined) {
    const state = job ? `${job.status}${job.phase ? ` (${job.phase})` : ''}` : 'never read';
    super(`Job ${jobId} did not finish within ${timeoutMs} ms; last status: ${state}.`);
    this.jobId = jobId;
    this.timeoutMs = timeoutMs;
    this.job = job;
  }
}

/** Paths whose GET answers a file rather than JSON: the import template and report, the public notice. */
export type DownloadPath = {
  [P in keyof paths]: paths[P] extends { get: { responses: { 200: { content: infer C } } } }
    ? 'application/json' extends keyof C
      ? never
      : P
    : never;
}[keyof paths];

/** The options of a download: the path's typed `params` (and headers, signal…), plus `as`. */
export type DownloadInit<P extends DownloadPath, As extends 'text' | 'bytes'> = NonNullable<
  MaybeOptionalInit<paths[P], 'get'>
> &
  (As extends 'bytes' ? { as: 'bytes' } : { as?: 'text' });

/** `init` is optional unless the path has required parameters (or `as: 'bytes'` is wanted). */
type DownloadArgs<P extends DownloadPath, As extends 'text' | 'bytes'> = As extends 'text'
  ? undefined extends MaybeOptionalInit<paths[P], 'get'>
    ? [init?: DownloadInit<P, As>]
    : [init: DownloadInit<P, As>]
  : [init: DownloadInit<P, As>];

/** A downloaded file. */
export interface Downloaded<Data extends string | Uint8Array> {
  /** The body: text (UTF-8, a BOM removed) or bytes (as sent, a BOM kept). */
  data: Data;
  /** `Content-Type` of the answer, e.g. `text/csv; charset=utf-8`. */
  contentType: string;
  /** The file name of `Content-Disposition` (its UTF-8 `filename*` when given). */
  filename: string | undefined;
  response: Response;
}

export interface HoufuClient extends Client<ClientPaths> {
  /**
   * Every item of a cursor-paginated list, page after page until `next_cursor` is null.
   * Throws {@link HoufuApiError} when a page fails.
   */
  paginate<P extends PaginatedPath>(path: P, init?: PaginateInit<P>): AsyncGenerator<PageItem<P>, void>;
  /** Same as {@link HoufuClient.paginate}. */
  iterate<P extends PaginatedPath>(path: P, init?: PaginateInit<P>): AsyncGenerator<PageItem<P>, void>;
  /** The `data` of a result, or a thrown {@link HoufuApiError}. */
  unwrap: typeof unwrap;
  /**
   * The fetch the client sends through (auth, idempotency keys, retries), for requests outside the
   * typed paths.
   */
  fetch: (input: Request) => Promise<Response>;
  /** The bearer token the client sends now (fetching an integrator token if needed); undefined without auth. */
  accessToken(): Promise<string | undefined>;
  /**
   * Uploads a registry file (`POST /v1/imports`, county callers): the body is the file itself, sent
   * as `text/csv` or the XLSX type. The import's `Idempotency-Key` is yours or one the client
   * generates, the same for every retry of this call. Resolves with the 202 body (the queued import
   * and its `job.id`: pass it to {@link HoufuClient.waitForJob}); throws {@link HoufuApiError} on an
   * error answer (403 not a county, 413 too large, 422 the key was used for another file…).
   *
   * A `ReadableStream` is sent with `duplex: 'half'` (Node's fetch); to retry it, the client keeps
   * what it sent so far in memory.
   */
  uploadImport(file: ImportFile, options?: UploadImportOptions): Promise<Import>;
  /**
   * Polls `GET /v1/jobs/{id}`, waiting longer between polls (capped), until the job has `succeeded`
   * or `failed`, and resolves with that job. A failed job resolves too: read its `error`
   * (`{ code, message }`, e.g. `invalid_header`). Throws {@link JobTimeoutError} after `timeoutMs`,
   * {@link HoufuApiError} when a poll fails (404: not in your scope).
   */
  waitForJob(jobId: string, options?: WaitForJobOptions): Promise<Job>;
  /**
   * Downloads a file of a typed path (the import template or report, the public notice): its text by
   * default, its bytes with `as: 'bytes'` (XLSX). Throws {@link HoufuApiError} on an error answer
   * (e.g. 409 for the report of an import not completed yet).
   */
  download<P extends DownloadPath>(path: P, ...init: DownloadArgs<P, 'text'>): Promise<Downloaded<string>>;
  download<P extends DownloadPath>(
    path: P,
    ...init: DownloadArgs<P, 'bytes'>
  ): Promise<Downloaded<Uint8Array>>;
  /**
   * Downloads the bank file 代发文件 of an approved batch (`POST /v1/disbursements/{id}/bank-file`,
   * `subsidy:export`): its bytes as sent (a CSV keeps its BOM; `fixed` is GB18030), the content type
   * and the `Content-Disposition` file name (`bank-<batch no>.csv` / `.txt`). It is the only answer
   * holding the full bank accounts: every download is audited with `reason`, and the first moves the
   * batch to `exported`. A file is complete only with its trailer (docs/bank-files.md). Throws
   * {@link HoufuApiError} on an error answer (404 not in your county, 409 not approved yet or cancelled).
   */
  exportBankFile(batchId: string, options: ExportBankFileOptions): Promise<Downloaded<Uint8Array>>;
  /**
   * Applies the bank's return file 回盘文件 to an exported batch (`POST /v1/disbursements/{id}/returns`,
   * sent as `text/csv`; the API reads UTF-8 or GB18030). Resolves with the `BankReturn` both when it
   * was applied (201) and when this exact file had been applied before (200, `replayed: true`,
   * nothing changed) — so a retried upload whose answer was lost is safe. Throws
   * {@link HoufuApiError} on an error answer (409 not exported yet, closed or cancelled; 413 too
   * large; 422 a malformed file, nothing applied, `errors` naming the rows).
   */
  uploadBankReturn(
    batchId: string,
    file: BankReturnFile,
    options?: UploadBankReturnOptions,
  ): Promise<BankReturn>;
}

const RETRYABLE_STATUS = new Set([429, 503]);

/**
 * 429 and 503 are retried; so is a 409 with `Retry-After` to a request that carries an
 * `Idempotency-Key`: the first attempt with that key is still running on the server (e.g. a slow
 * upload whose response was lost), and the retry will replay its answer once it is done.
 */
function retryable(request: Request, response: Response): boolean {
  if (RETRYABLE_STATUS.has(response.status)) return true;
  return (
    response.status === 409 && request.headers.has('idempotency-key') && response.headers.has('retry-after')
  );
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or invalid. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function sleep(ms: number, signal: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The file name of a `Content-Disposition` header: `filename*=UTF-8''…` first, then `filename="…"`. */
export function dispositionFilename(header: string | null): string | undefined {
  if (!header) return undefined;
  const extended = /filename\*\s*=\s*UTF-8''([^;\s]+)/i.exec(header);
  if (extended?.[1]) {
    try {
      return decodeURIComponent(extended[1]);
    } catch {
      // malformed: fall back to the plain name
    }
  }
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(header);
  const name = plain?.[1]?.replace(/\\(.)/g, '$1') ?? plain?.[2];
  return name || undefined;
}

/** The format of an import: explicit, else the file name's extension, else a Blob's type, else CSV. */
function importFormatOf(file: ImportFile, filename: string | undefined): 'csv' | 'xlsx' {
  const extension = /\.(csv|xlsx)$/i.exec(filename ?? '')?.[1]?.toLowerCase();
  if (extension === 'csv' || extension === 'xlsx') return extension;
  if (typeof Blob !== 'undefined' && file instanceof Blob && file.type.split(';')[0] === XLSX_MEDIA_TYPE) {
    return 'xlsx';
  }
  return 'csv';
}

const TERMINAL_JOB_STATUS = new Set<Job['status']>(['succeeded', 'failed']);
/** setTimeout's longest delay; a longer timeout means no timeout. */
const MAX_TIMER_MS = 2 ** 31 - 1;

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}

interface CachedToken {
  value: string;
  /** When to fetch a new one (ms since epoch): ~30 s before it expires. */
  refreshAt: number;
}

/** Fetches and caches integrator tokens; concurrent callers share one token request. */
class ClientCredentialsTokens {
  private cached: CachedToken | undefined;
  private pending: Promise<CachedToken> | undefined;

  constructor(
    private readonly credentials: ClientCredentials,
    private readonly tokenUrl: string,
    private readonly send: (request: Request) => Promise<Response>,
  ) {}

  async get(): Promise<string> {
    if (this.cached && Date.now() < this.cached.refreshAt) return this.cached.value;
    return (await this.refresh()).value;
  }

  /** Drops `used` (a token the API refused) so the next `get()` fetches a new one. */
  invalidate(used: string): void {
    if (this.cached?.value === used) this.cached = undefined;
  }

  private refresh(): Promise<CachedToken> {
    this.pending ??= this.request().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async request(): Promise<CachedToken> {
    const { clientId, clientSecret, scope } = this.credentials;
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: clientId,
      client_secret: clientSecret,
    });
    if (scope !== undefined) form.set('scope', typeof scope === 'string' ? scope : scope.join(' '));
    const started = Date.now();
    const response = await this.send(
      new Request(this.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
      }),
    );
    if (!response.ok) throw await HoufuApiError.fromResponse(response);
    const body = (await response.json()) as components['schemas']['TokenResponse'];
    const lifetimeMs = body.expires_in * 1000;
    const margin = Math.min(30_000, lifetimeMs / 2);
    this.cached = { value: body.access_token, refreshAt: started + lifetimeMs - margin };
    return this.cached;
  }
}

/**
 * The Houfu API client: openapi-fetch's typed `GET`/`POST`/`PATCH`… (`{ data, error, response }`)
 * plus bearer auth, an `Idempotency-Key` on every POST, retries of 429/503/network errors and
 * cursor pagination.
 */
export function createHoufuClient(options: HoufuClientOptions = {}): HoufuClient {
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  const baseFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const retry = options.retry === false ? { retries: 0 } : (options.retry ?? {});
  const retries = Math.max(0, retry.retries ?? 3);
  const baseDelayMs = Math.max(0, retry.baseDelayMs ?? 200);
  const maxDelayMs = Math.max(0, retry.maxDelayMs ?? 30_000);
  if (options.token !== undefined && options.clientCredentials) {
    throw new TypeError('Pass either token or clientCredentials, not both.');
  }

  function delayFor(retryIndex: number, response: Response | undefined): number {
    const retryAfter = response ? parseRetryAfter(response.headers.get('retry-after')) : undefined;
    if (retryAfter !== undefined) return Math.min(retryAfter, maxDelayMs);
    const step = Math.min(maxDelayMs, baseDelayMs * 2 ** retryIndex);
    return step / 2 + (Math.random() * step) / 2;
  }

  /**
   * Sends `request` (cloned per attempt, so its body can be sent again), retrying 429, 503, a 409
   * `idempotency_in_progress` and network errors. `prepare` sets per-attempt headers (the current token).
   */
  async function withRetries(
    request: Request,
    init: RequestInit | undefined,
    prepare?: (attempt: Request) => Promise<void>,
  ): Promise<Response> {
    for (let retryIndex = 0; ; retryIndex += 1) {
      const attempt = request.clone();
      await prepare?.(attempt);
      let response: Response | undefined;
      try {
        response = await (init === undefined ? baseFetch(attempt) : baseFetch(attempt, init));
      } catch (error) {
        const aborted = request.signal?.aborted || (error as Error | undefined)?.name === 'AbortError';
        if (aborted || retryIndex >= retries) throw error;
      }
      if (response) {
        if (!retryable(attempt, response) || retryIndex >= retries) return response;
        await discard(response);
      }
      await sleep(delayFor(retryIndex, response), request.signal);
    }
  }

  const tokens = options.clientCredentials
    ? new ClientCredentialsTokens(options.clientCredentials, `${baseUrl}${TOKEN_PATH}`, (r) =>
        withRetries(r, undefined),
      )
    : undefined;
  const tokenSource = options.token;

  async function currentToken(): Promise<string | undefined> {
    if (tokens) return tokens.get();
    if (typeof tokenSource === 'function') return tokenSource();
    return tokenSource;
  }

  /** The fetch handed to openapi-fetch: once per logical call, retries inside. */
  async function send(input: Request, init?: RequestInit): Promise<Response> {
    const headers = new Headers(input.headers);
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (!headers.has(name)) headers.set(name, value);
    }
    // One key per logical call, reused by every retry: a retried POST replays, never duplicates.
    if (input.method === 'POST' && !headers.has('idempotency-key')) {
      headers.set('idempotency-key', globalThis.crypto.randomUUID());
    }
    const request = new Request(input, { headers });
    const isTokenRequest = new URL(request.url).pathname.endsWith(TOKEN_PATH);
    const useAuth = !isTokenRequest && !headers.has('authorization') && (tokens || tokenSource !== undefined);
    if (!useAuth) return withRetries(request, init);

    let used: string | undefined;
    const authorize = async (attempt: Request) => {
      used = await currentToken();
      if (used) attempt.headers.set('authorization', `Bearer ${used}`);
    };
    const response = await withRetries(request, init, authorize);
    if (response.status !== 401 || !tokens || used === undefined) return response;
    // The token was refused (revoked keys, a clock skew): fetch a new one and try once more.
    await discard(response);
    tokens.invalidate(used);
    return withRetries(request, init, authorize);
  }

  const client = createClient<ClientPaths>({ baseUrl, fetch: send });

  async function* paginate<P extends PaginatedPath>(
    path: P,
    init?: PaginateInit<P>,
  ): AsyncGenerator<PageItem<P>, void> {
    const base = (init ?? {}) as { params?: { query?: Record<string, unknown> } } & Record<string, unknown>;
    let cursor = base.params?.query?.cursor as string | undefined;
    const seen = new Set<string>();
    for (;;) {
      const query = { ...base.params?.query, ...(cursor === undefined ? {} : { cursor }) };
      const get = client.GET as (
        path: string,
        init: unknown,
      ) => Promise<{ data?: Page<PageItem<P>>; error?: unknown; response: Response }>;
      const page = unwrap(await get(path, { ...base, params: { ...base.params, query } }));
      for (const item of page.data) yield item;
      const next = page.next_cursor;
      if (next === null || next === undefined) return;
      if (seen.has(next)) throw new Error(`The list ${path} returned the cursor ${next} twice.`);
      seen.add(next);
      cursor = next;
    }
  }

  async function uploadImport(file: ImportFile, options: UploadImportOptions = {}): Promise<Import> {
    const filename =
      options.filename ??
      (typeof File !== 'undefined' && file instanceof File && file.name ? file.name : undefined);
    const format = options.format ?? importFormatOf(file, filename);
    const charset = typeof file === 'string' ? 'utf-8' : options.charset;
    const contentType =
      format === 'xlsx'
        ? XLSX_MEDIA_TYPE
        : charset
          ? `${CSV_MEDIA_TYPE}; charset=${charset}`
          : CSV_MEDIA_TYPE;
    const key = options.idempotencyKey;
    const result = await client.POST('/v1/imports', {
      params: {
        query: filename === undefined ? {} : { filename },
        // Without a key of the caller's, `send` adds one and reuses it for every retry of this call.
        ...(key === undefined ? {} : { header: { 'idempotency-key': key } }),
      },
      // The OpenAPI document types a binary body as a string: the file goes out as it is.
      body: file as unknown as string,
      bodySerializer: (body) => body,
      headers: { 'content-type': contentType },
      ...(options.signal ? { signal: options.signal } : {}),
      // Needed by Node's fetch for a stream body, harmless for the others.
      duplex: 'half',
    });
    return unwrap(result);
  }

  async function waitForJob(jobId: string, options: WaitForJobOptions = {}): Promise<Job> {
    const firstMs = Math.max(0, options.intervalMs ?? 500);
    const capMs = Math.max(firstMs, options.maxIntervalMs ?? 5_000);
    const timeoutMs = options.timeoutMs ?? 600_000;
    const timeout = new AbortController();
    const timer = timeoutMs <= MAX_TIMER_MS ? setTimeout(() => timeout.abort(), timeoutMs) : undefined;
    const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
    let job: Job | undefined;
    try {
      for (let poll = 0; ; poll += 1) {
        job = unwrap(await client.GET('/v1/jobs/{id}', { params: { path: { id: jobId } }, signal }));
        options.onPoll?.(job);
        if (TERMINAL_JOB_STATUS.has(job.status)) return job;
        await sleep(Math.min(capMs, firstMs * 1.5 ** poll), signal);
      }
    } catch (error) {
      if (timeout.signal.aborted && !options.signal?.aborted)
        throw new JobTimeoutError(jobId, timeoutMs, job);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async function download(
    path: DownloadPath,
    init: { as?: 'text' | 'bytes' } & Record<string, unknown> = {},
  ): Promise<Downloaded<string | Uint8Array>> {
    const { as = 'text', ...rest } = init;
    const get = client.GET as (
      path: string,
      init: unknown,
    ) => Promise<{ data?: string | ArrayBuffer; error?: unknown; response: Response }>;
    const result = await get(path, { ...rest, parseAs: as === 'bytes' ? 'arrayBuffer' : 'text' });
    const body = unwrap(result) ?? ''; // undefined for an empty body (Content-Length: 0)
    const { response } = result;
    return {
      data: typeof body === 'string' ? (as === 'bytes' ? new Uint8Array() : body) : new Uint8Array(body),
      contentType: response.headers.get('content-type') ?? '',
      filename: dispositionFilename(response.headers.get('content-disposition')),
      response,
    };
  }

  async function exportBankFile(
    batchId: string,
    options: ExportBankFileOptions,
  ): Promise<Downloaded<Uint8Array>> {
    const result = await client.POST('/v1/disbursements/{id}/bank-file', {
      params: { path: { id: batchId } },
      body: { format: options.format ?? 'csv', reason: options.reason },
      parseAs: 'arrayBuffer',
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const body = unwrap(result) as ArrayBuffer | undefined; // undefined for an empty body
    const { response } = result;
    return {
      data: body === undefined ? new Uint8Array() : new Uint8Array(body),
      contentType: response.headers.get('content-type') ?? '',
      filename: dispositionFilename(response.headers.get('content-disposition')),
      response,
    };
  }

  async function uploadBankReturn(
    batchId: string,
    file: BankReturnFile,
    options: UploadBankReturnOptions = {},
  ): Promise<BankReturn> {
    const filename =
      options.filename ??
      (typeof File !== 'undefined' && file instanceof File && file.name ? file.name : undefined);
    const result = await client.POST('/v1/disbursements/{id}/returns', {
      params: { path: { id: batchId }, query: filename === undefined ? {} : { filename } },
      // The OpenAPI document types a CSV body as a string: the file goes out as it is.
      body: file as unknown as string,
      bodySerializer: (body) => body,
      headers: { 'content-type': CSV_MEDIA_TYPE },
      ...(options.signal ? { signal: options.signal } : {}),
      // Needed by Node's fetch for a stream body, harmless for the others.
      duplex: 'half',
    });
    return unwrap(result); // 201 applied, 200 replayed: the same body
  }

  return Object.assign(client, {
    paginate,
    iterate: paginate,
    unwrap,
    fetch: (input: Request) => send(input),
    accessToken: currentToken,
    uploadImport,
    waitForJob,
    download: download as HoufuClient['download'],
    exportBankFile,
    uploadBankReturn,
  });
}
