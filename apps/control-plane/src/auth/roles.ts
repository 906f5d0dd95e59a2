// Roles are ordered: each one can do everything the ones below it can.
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type RoleName = (typeof ROLES)[number];

export function roleAllows(have: RoleName, need: RoleName): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

export function isRole(value: string): value is RoleName {
  return (ROLES as readonly string[]).includes(value);
}
