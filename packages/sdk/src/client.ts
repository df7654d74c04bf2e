import createClient, { type Client, type MaybeOptionalInit } from 'openapi-fetch';
import { HoufuApiError, unwrap } from './errors.js';
import type { components, paths } from './schema.js';

export const DEFAULT_BASE_URL = 'http://127.0.0.1:8787';
export const TOKEN_PATH = '/v1/oauth/token';

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

export interface HoufuClient extends Client<paths> {
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
}

const RETRYABLE_STATUS = new Set([429, 503]);

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
   * Sends `request` (cloned per attempt, so its body can be sent again), retrying 429, 503 and
   * network errors. `prepare` sets per-attempt headers (the current token).
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
        if (!RETRYABLE_STATUS.has(response.status) || retryIndex >= retries) return response;
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

  const client = createClient<paths>({ baseUrl, fetch: send });

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

  return Object.assign(client, {
    paginate,
    iterate: paginate,
    unwrap,
    fetch: (input: Request) => send(input),
    accessToken: currentToken,
  });
}
