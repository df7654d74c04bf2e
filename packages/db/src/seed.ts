import { appendAudit } from './audit.js';
import type { Database } from './client.js';
import { readCountyLocalities, readDivisionDictionary } from './dictionary.js';
import { upsertDivisions } from './queries/divisions.js';
import { countLocalities, insertDictionaryLocalities } from './queries/localities.js';
import { withDivision } from './tenant.js';

/** Loads (or refreshes) the division dictionary: administrative connection. */
export async function loadDivisionDictionary(db: Database): Promise<number> {
  return upsertDivisions(db.orm, await readDivisionDictionary());
}

/**
 * Loads one county's townships and villages from the dictionary, on demand, as that county's tenant
 * (RLS applies) and audited. Codes the county already has are left untouched.
 */
export async function loadCountyLocalities(
  db: Database,
  county: number,
  actorSub = 'system:dictionary',
): Promise<{ inserted: number; townships: number; villages: number }> {
  const records = await readCountyLocalities(county);
  return withDivision(db, county, async (tx) => {
    const inserted = await insertDictionaryLocalities(tx, county, records);
    if (inserted > 0) {
      await appendAudit(tx, {
        division: county,
        actor: { sub: actorSub, kind: 'system', division: county },
        action: 'locality.load_dictionary',
        entityType: 'county',
        entityId: String(county),
        changes: { localities: { old: null, new: inserted } },
        requestId: null,
        occurredAt: new Date(),
      });
    }
    return { inserted, ...(await countLocalities(tx, county)) };
  });
}
