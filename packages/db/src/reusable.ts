import type { Tx } from './client.js';

/** The parts of a drizzle prepared query (postgres.js and PGlite alike) that a reuse needs. */
interface Built {
  queryString: string;
  params: unknown[];
  fields: unknown;
  joinsNotNullableMap?: unknown;
}

interface Preparable<R> {
  prepare(name: string): { execute(values?: Record<string, unknown>): Promise<R> };
}

interface Session {
  prepareQuery(
    query: { sql: string; params: unknown[] },
    fields: unknown,
    name: string | undefined,
    isResponseInArrayMode: boolean,
  ): { execute(values?: Record<string, unknown>): Promise<unknown>; joinsNotNullableMap?: unknown };
}

const isBuilt = (q: unknown): q is Built =>
  typeof q === 'object' &&
  q !== null &&
  typeof (q as Built).queryString === 'string' &&
  Array.isArray((q as Built).params) &&
  Array.isArray((q as Built).fields);

/**
 * A select whose SQL is built once per process and then run on any transaction, its values given as
 * `sql.placeholder`s. drizzle's builder costs a few hundred microseconds for a wide select (the
 * person's ~25 columns, a join and a subquery): more than the query itself on a hot path such as
 * GET by id. Only the text, the parameter slots and the result mapping are kept; each call runs in
 * the caller's transaction (its scope and row-level security) and maps rows as drizzle does.
 * Should drizzle's prepared query not have the expected shape, every call builds the query anew.
 */
export function reusableSelect<R>(
  build: (tx: Tx) => Preparable<R>,
): (tx: Tx, values: Record<string, unknown>) => Promise<R> {
  let built: Built | null | undefined;
  return (tx, values) => {
    if (built === undefined) {
      // The name is never sent: the session decides how to send it (see `preparing` in client.ts).
      const first = build(tx).prepare('reusable');
      built = isBuilt(first) ? first : null;
      return first.execute(values);
    }
    if (built === null) return build(tx).prepare('reusable').execute(values);
    const session = (tx as unknown as { session: Session }).session;
    const q = session.prepareQuery(
      { sql: built.queryString, params: built.params },
      built.fields,
      undefined,
      true,
    );
    q.joinsNotNullableMap = built.joinsNotNullableMap;
    return q.execute(values) as Promise<R>;
  };
}
