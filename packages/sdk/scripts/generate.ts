/**
 * Regenerates the SDK from the API's route contracts, without a server or a database.
 *
 *   pnpm sdk:generate            writes packages/sdk/openapi.json and packages/sdk/src/schema.ts
 *   pnpm sdk:check               (--check) fails when either committed file differs
 */
import { STALE_MESSAGE, staleFiles, writeSdk } from './codegen.js';

const check = process.argv.includes('--check');

if (check) {
  const stale = await staleFiles();
  if (stale.length > 0) {
    console.error(`${STALE_MESSAGE} (differs: ${stale.join(', ')})`);
    process.exit(1);
  }
  console.log('SDK is up to date.');
} else {
  const changed = await writeSdk();
  console.log(changed.length > 0 ? `Wrote ${changed.join(', ')}.` : 'SDK is up to date; nothing written.');
}
