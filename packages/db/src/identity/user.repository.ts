import { randomUUID } from 'node:crypto';
import type { AppUser, Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { Db } from '../prisma-client.ts';

export interface SignInClaims {
  issuer: string;
  subject: string;
  email: string | null;
  name: string | null;
  groups: string[];
}

/** The owner of app_user and group_member. */
export async function upsertUserFromSignIn(tx: Prisma.TransactionClient, claims: SignInClaims, now = new Date()): Promise<{ user: AppUser; created: boolean }> {
  const existing = await tx.appUser.findUnique({ where: { issuer_subject: { issuer: claims.issuer, subject: claims.subject } } });
  if (existing) {
    // A deactivated person keeps their row (and the audit trail that names it) but signs in no more.
    if (!existing.active) return { user: existing, created: false };
    const user = await tx.appUser.update({
      where: { id: existing.id },
      data: { email: claims.email, name: claims.name, idpGroups: claims.groups, lastLoginAt: now },
    });
    return { user, created: false };
  }
  const user = await tx.appUser.create({
    data: {
      id: randomUUID(),
      issuer: claims.issuer,
      subject: claims.subject,
      email: claims.email,
      name: claims.name,
      idpGroups: claims.groups,
      lastLoginAt: now,
    },
  });
  return { user, created: true };
}

export type UserWithGroups = AppUser & { groups: Array<{ groupName: string }> };

export async function listUsers(prisma: PrismaClient): Promise<UserWithGroups[]> {
  return prisma.appUser.findMany({ include: { groups: { select: { groupName: true } } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
}

export async function findUser(db: Db, id: string): Promise<UserWithGroups | null> {
  return db.appUser.findUnique({ where: { id }, include: { groups: { select: { groupName: true } } } });
}

/** Every group a person is in: the identity provider's and those assigned in Glidepath. */
export function userGroups(user: UserWithGroups): string[] {
  return [...new Set([...user.idpGroups, ...user.groups.map((g) => g.groupName)])].sort();
}

export async function setUserActive(tx: Prisma.TransactionClient, id: string, active: boolean, now = new Date()): Promise<AppUser> {
  return tx.appUser.update({ where: { id }, data: { active, deactivatedAt: active ? null : now } });
}

export async function addGroupMember(tx: Prisma.TransactionClient, groupName: string, userId: string, addedBy: string): Promise<boolean> {
  const added = await tx.groupMember.createMany({ data: [{ groupName, userId, addedBy }], skipDuplicates: true });
  return added.count === 1;
}

export async function removeGroupMember(tx: Prisma.TransactionClient, groupName: string, userId: string): Promise<boolean> {
  return (await tx.groupMember.deleteMany({ where: { groupName, userId } })).count === 1;
}

/** Group names with their members, from both sources. */
export async function listGroups(prisma: PrismaClient): Promise<Array<{ name: string; members: Array<{ userId: string; source: 'idp' | 'glidepath' }> }>> {
  const [users, assigned] = await Promise.all([
    prisma.appUser.findMany({ where: { idpGroups: { isEmpty: false } }, select: { id: true, idpGroups: true } }),
    prisma.groupMember.findMany({ select: { groupName: true, userId: true } }),
  ]);
  const groups = new Map<string, Array<{ userId: string; source: 'idp' | 'glidepath' }>>();
  const add = (name: string, userId: string, source: 'idp' | 'glidepath') => {
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name)!.push({ userId, source });
  };
  for (const user of users) for (const group of user.idpGroups) add(group, user.id, 'idp');
  for (const member of assigned) add(member.groupName, member.userId, 'glidepath');
  return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, members]) => ({ name, members }));
}
