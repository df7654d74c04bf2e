import { and, asc, eq, gte, lt, type SQL, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { reusableSelect } from '../reusable.js';
import {
  households,
  localities,
  personEvents,
  persons,
  registryConflictSides,
  registryVerifications,
} from '../schema.js';
import { rowsOf } from '../tenant.js';

export type Household = typeof households.$inferSelect;
export type Person = typeof persons.$inferSelect;
export type PersonEventRecord = typeof personEvents.$inferSelect;
export type NewHousehold = Pick<Household, 'divisionCode' | 'householdNo' | 'villageCode'>;
export type NewPerson = Omit<Person, 'id' | 'status' | 'importId' | 'version' | 'createdAt' | 'updatedAt'>;
export type NewPersonEvent = Omit<PersonEventRecord, 'id' | 'recordedAt'>;

/** A person with the household's village and number (what lists and pages show). */
export interface PersonView extends Person {
  householdNo: string;
  villageCode: number;
  openConflict: boolean;
}

const personView = {
  person: persons,
  householdNo: households.householdNo,
  villageCode: households.villageCode,
  // Written out qualified: drizzle leaves column names bare when a query has no join.
  openConflict: sql<boolean>`EXISTS (SELECT 1 FROM ${registryConflictSides} s
    WHERE s.division_code = "persons"."division_code" AND s.person_id = "persons"."id" AND s.status = 'open')`,
};

const toView = (r: { person: Person; householdNo: string; villageCode: number; openConflict: boolean }) => ({
  ...r.person,
  householdNo: r.householdNo,
  villageCode: r.villageCode,
  openConflict: r.openConflict,
});

// ── Households 户 ──────────────────────────────────────────────────────────────────────────────

export interface HouseholdFilter {
  county?: number | undefined;
  village?: number | undefined;
  householdNo?: string | undefined;
  after?: { divisionCode: number; householdNo: string } | undefined;
  limit: number;
}

export async function listHouseholds(
  tx: Tx,
  f: HouseholdFilter,
): Promise<(Household & { members: number })[]> {
  const where: SQL[] = [];
  if (f.county !== undefined) where.push(eq(households.divisionCode, f.county));
  if (f.village !== undefined) where.push(eq(households.villageCode, f.village));
  if (f.householdNo !== undefined) where.push(eq(households.householdNo, f.householdNo));
  if (f.after) {
    where.push(
      sql`(${households.divisionCode}, ${households.householdNo}) > (${f.after.divisionCode}, ${f.after.householdNo})`,
    );
  }
  const rows = await tx
    .select({
      household: households,
      members: sql<number>`(SELECT count(*)::int FROM ${persons} p
        WHERE p.division_code = "households"."division_code" AND p.household_id = "households"."id")`,
    })
    .from(households)
    .where(and(...where))
    .orderBy(asc(households.divisionCode), asc(households.householdNo))
    .limit(f.limit);
  return rows.map((r) => ({ ...r.household, members: r.members }));
}

/** One household by id, whichever county of the caller's scope owns it. */
export async function getHousehold(tx: Tx, id: string): Promise<Household | undefined> {
  const [row] = await tx.select().from(households).where(eq(households.id, id));
  return row;
}

/** Locks a household row until commit (member changes and village moves serialise on it). */
export async function lockHousehold(tx: Tx, id: string): Promise<Household | undefined> {
  const [row] = await tx.select().from(households).where(eq(households.id, id)).for('update');
  return row;
}

export async function insertHousehold(tx: Tx, row: NewHousehold): Promise<Household | undefined> {
  const [created] = await tx.insert(households).values(row).onConflictDoNothing().returning();
  return created;
}

export async function updateHouseholdVillage(
  tx: Tx,
  household: Household,
  expectedVersion: number,
  villageCode: number,
): Promise<Household | undefined> {
  const [updated] = await tx
    .update(households)
    .set({ villageCode, version: sql`${households.version} + 1`, updatedAt: sql`now()` })
    .where(
      and(
        eq(households.divisionCode, household.divisionCode),
        eq(households.id, household.id),
        eq(households.version, expectedVersion),
      ),
    )
    .returning();
  return updated;
}

/** An active village of the county, locked FOR SHARE so it is not deactivated before commit. */
export async function lockActiveVillage(tx: Tx, county: number, code: number): Promise<boolean> {
  const [row] = await tx
    .select({ code: localities.code })
    .from(localities)
    .where(
      and(
        eq(localities.divisionCode, county),
        eq(localities.code, code),
        eq(localities.level, 'village'),
        eq(localities.active, true),
      ),
    )
    .for('share');
  return row !== undefined;
}

// ── Persons 移民 ───────────────────────────────────────────────────────────────────────────────

export interface PersonFilter {
  county?: number | undefined;
  township?: number | undefined;
  village?: number | undefined;
  householdId?: string | undefined;
  status?: Person['status'] | undefined;
  reservoir?: string | undefined;
  relocationYear?: number | undefined;
  relocateeKind?: Person['relocateeKind'] | undefined;
  /** Name prefix. */
  namePrefix?: string | undefined;
  /** Keyed hash of a full national ID number (exact search). */
  idHash?: Buffer | undefined;
  after?: { divisionCode: number; id: string } | undefined;
  limit: number;
}

export async function listPersons(tx: Tx, f: PersonFilter): Promise<PersonView[]> {
  const where: SQL[] = [];
  if (f.county !== undefined) where.push(eq(persons.divisionCode, f.county));
  if (f.village !== undefined) where.push(eq(households.villageCode, f.village));
  if (f.township !== undefined) {
    // Village codes of a township share its first nine digits.
    where.push(gte(households.villageCode, f.township), lt(households.villageCode, f.township + 1000));
  }
  if (f.householdId !== undefined) where.push(eq(persons.householdId, f.householdId));
  if (f.status !== undefined) where.push(eq(persons.status, f.status));
  if (f.reservoir !== undefined) where.push(eq(persons.reservoir, f.reservoir));
  if (f.relocateeKind !== undefined) where.push(eq(persons.relocateeKind, f.relocateeKind));
  if (f.relocationYear !== undefined) {
    where.push(
      gte(persons.relocationDate, `${f.relocationYear}-01-01`),
      lt(persons.relocationDate, `${f.relocationYear + 1}-01-01`),
    );
  }
  if (f.namePrefix !== undefined) {
    const escaped = f.namePrefix.replace(/[\\%_]/g, (ch) => `\\${ch}`);
    where.push(sql`${persons.name} LIKE ${`${escaped}%`}`);
  }
  if (f.idHash !== undefined) where.push(eq(persons.idHash, f.idHash));
  if (f.after) {
    where.push(
      sql`(${persons.divisionCode}, ${persons.id}) > (${f.after.divisionCode}, ${f.after.id}::uuid)`,
    );
  }
  const rows = await tx
    .select(personView)
    .from(persons)
    .innerJoin(
      households,
      and(eq(households.divisionCode, persons.divisionCode), eq(households.id, persons.householdId)),
    )
    .where(and(...where))
    .orderBy(asc(persons.divisionCode), asc(persons.id))
    .limit(f.limit);
  return rows.map(toView);
}

/** One person by id, whichever county of the caller's scope registered them. */
/** The unlocked read, built once (GET by id is the hottest path: see reusableSelect). */
const selectPerson = reusableSelect((tx: Tx) =>
  tx
    .select(personView)
    .from(persons)
    .innerJoin(
      households,
      and(eq(households.divisionCode, persons.divisionCode), eq(households.id, persons.householdId)),
    )
    .where(eq(persons.id, sql.placeholder('id'))),
);

export async function getPerson(
  tx: Tx,
  id: string,
  options: { lock?: boolean } = {},
): Promise<PersonView | undefined> {
  if (!options.lock) {
    const [row] = await selectPerson(tx, { id });
    return row ? toView(row) : undefined;
  }
  const query = tx
    .select(personView)
    .from(persons)
    .innerJoin(
      households,
      and(eq(households.divisionCode, persons.divisionCode), eq(households.id, persons.householdId)),
    )
    .where(eq(persons.id, id));
  const [row] = await query.for('update', { of: persons });
  return row ? toView(row) : undefined;
}

/** Inserts a person; undefined when the national ID is already registered in the county. */
export async function insertPerson(tx: Tx, row: NewPerson): Promise<Person | undefined> {
  const [created] = await tx.insert(persons).values(row).onConflictDoNothing().returning();
  return created;
}

export type PersonPatch = Partial<
  Pick<
    Person,
    | 'householdId'
    | 'relationship'
    | 'name'
    | 'idHash'
    | 'idSealed'
    | 'idMasked'
    | 'sex'
    | 'birthDate'
    | 'reservoir'
    | 'relocationDate'
    | 'relocateeKind'
    | 'bankName'
    | 'bankAccountSealed'
    | 'bankAccountMasked'
    | 'status'
  >
>;

/**
 * Conditional update on the version the caller read (undefined when it changed meanwhile); every
 * change bumps the version, status changes by events included.
 */
export async function updatePerson(
  tx: Tx,
  person: Pick<Person, 'divisionCode' | 'id'>,
  expectedVersion: number,
  patch: PersonPatch,
): Promise<Person | undefined> {
  const [updated] = await tx
    .update(persons)
    .set({ ...patch, version: sql`${persons.version} + 1`, updatedAt: sql`now()` })
    .where(
      and(
        eq(persons.divisionCode, person.divisionCode),
        eq(persons.id, person.id),
        eq(persons.version, expectedVersion),
      ),
    )
    .returning();
  return updated;
}

/** The household's registered head 户主 other than `exceptId`, if any (a deceased head may be succeeded). */
export async function householdHead(
  tx: Tx,
  county: number,
  householdId: string,
  exceptId?: string,
): Promise<Person | undefined> {
  const [row] = await tx
    .select()
    .from(persons)
    .where(
      and(
        eq(persons.divisionCode, county),
        eq(persons.householdId, householdId),
        eq(persons.relationship, 'head'),
        eq(persons.status, 'registered'),
        ...(exceptId ? [sql`${persons.id} <> ${exceptId}::uuid`] : []),
      ),
    )
    .limit(1);
  return row;
}

/** True when another person of the county holds this ID hash. */
export async function idRegisteredInCounty(
  tx: Tx,
  county: number,
  idHash: Buffer,
  exceptId?: string,
): Promise<boolean> {
  const [row] = await tx
    .select({ id: persons.id })
    .from(persons)
    .where(
      and(
        eq(persons.divisionCode, county),
        eq(persons.idHash, idHash),
        ...(exceptId ? [sql`${persons.id} <> ${exceptId}::uuid`] : []),
      ),
    );
  return row !== undefined;
}

/**
 * Opens conflicts for these persons of `county` whose ID is registered in another county (an owner
 * function that reveals only the count); returns how many were opened.
 */
export async function detectConflicts(tx: Tx, county: number, personIds: readonly string[]): Promise<number> {
  if (personIds.length === 0) return 0;
  const [row] = rowsOf<{ opened: number }>(
    await tx.execute(
      sql`SELECT registry_detect_conflicts(${county}::int, ${sql.param([...personIds])}::uuid[]) AS opened`,
    ),
  );
  return Number(row?.opened ?? 0);
}

/**
 * Closes the open conflicts of a person that no longer hold (the ID was corrected, or either side is
 * no longer registered), except `keepOpen`; returns how many. An owner function: the other side
 * lives in another county.
 */
export async function settleConflicts(
  tx: Tx,
  county: number,
  personId: string,
  keepOpen?: string,
): Promise<number> {
  const [row] = rowsOf<{ settled: number }>(
    await tx.execute(
      sql`SELECT registry_settle_conflicts(${county}::int, ${personId}::uuid, ${keepOpen ?? null}::uuid) AS settled`,
    ),
  );
  return Number(row?.settled ?? 0);
}

// ── Events 人口变动 ─────────────────────────────────────────────────────────────────────────────

export async function listPersonEvents(
  tx: Tx,
  county: number,
  personId: string,
): Promise<PersonEventRecord[]> {
  return tx
    .select()
    .from(personEvents)
    .where(and(eq(personEvents.divisionCode, county), eq(personEvents.personId, personId)))
    .orderBy(asc(personEvents.effectiveDate), asc(personEvents.recordedAt), asc(personEvents.id));
}

export async function insertPersonEvent(tx: Tx, row: NewPersonEvent): Promise<PersonEventRecord> {
  const [created] = await tx.insert(personEvents).values(row).returning();
  if (!created) throw new Error('person event not inserted');
  return created;
}

/** When each verification year of a county was submitted (the 'annual_review' removal rule needs it). */
export async function verificationDates(tx: Tx, county: number): Promise<Record<number, string>> {
  const rows = await tx
    .select({ year: registryVerifications.year, at: registryVerifications.submittedAt })
    .from(registryVerifications)
    .where(eq(registryVerifications.divisionCode, county));
  return Object.fromEntries(rows.map((r) => [r.year, r.at.toISOString().slice(0, 10)]));
}
