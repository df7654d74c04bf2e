import { ensurePgliteTemplate, preparePostgres, usingPostgres } from '@houfu/db/testing';

/** Builds the shared test database once before any test file runs. */
export default async function setup() {
  if (usingPostgres()) await preparePostgres();
  else await ensurePgliteTemplate();
}
