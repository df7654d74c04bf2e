import type { KeyStore, TokenSettings } from '@houfu/api';
import { signUserToken } from '@houfu/api';
import { type Database, getDivisions, withDivision } from '@houfu/db';
import { NATION, type Role, roleDefinitions } from '@houfu/domain';

/** Demo tenants: 湖北省 → 宜昌市 → 宜都市, 当阳市, 枝江市. */
export const DEMO_PROVINCE = 420000;
export const DEMO_CITY = 420500;
export const DEMO_COUNTIES = [420581, 420582, 420583] as const;

/** One dev token per demo role. */
export const DEMO_USERS: readonly { role: Role; division: number; sub: string; name: string }[] = [
  { role: 'county_operator', division: 420581, sub: 'demo:yidu.operator', name: '宜都经办员' },
  { role: 'county_approver', division: 420581, sub: 'demo:yidu.approver', name: '宜都审核员' },
  { role: 'county_operator', division: 420582, sub: 'demo:dangyang.operator', name: '当阳经办员' },
  { role: 'city_reviewer', division: DEMO_CITY, sub: 'demo:yichang.reviewer', name: '宜昌审核员' },
  { role: 'province_admin', division: DEMO_PROVINCE, sub: 'demo:hubei.admin', name: '湖北管理员' },
  { role: 'auditor', division: DEMO_PROVINCE, sub: 'demo:hubei.auditor', name: '湖北审计员' },
  { role: 'national_admin', division: NATION, sub: 'demo:national.admin', name: '国家管理员' },
];

export interface DevToken {
  role: Role;
  label: string;
  division: number;
  divisionName: string;
  token: string;
}

export async function devTokens(
  db: Database,
  keys: KeyStore,
  settings: TokenSettings,
  ttlSeconds: number,
): Promise<DevToken[]> {
  const names = new Map(
    (
      await withDivision(db, NATION, (tx) =>
        getDivisions(
          tx,
          DEMO_USERS.map((u) => u.division),
        ),
      )
    ).map((d) => [d.code, d.name]),
  );
  return Promise.all(
    DEMO_USERS.map(async (u) => ({
      role: u.role,
      label: roleDefinitions[u.role].label,
      division: u.division,
      divisionName: names.get(u.division) ?? String(u.division),
      token: await signUserToken(keys, settings, {
        sub: u.sub,
        division: u.division,
        roles: [u.role],
        name: u.name,
        ttlSeconds,
      }),
    })),
  );
}
