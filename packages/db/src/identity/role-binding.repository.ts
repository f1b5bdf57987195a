import { randomUUID } from 'node:crypto';
import type { Grant, Role } from '@glidepath/core';
import type { Prisma, PrismaClient, RoleBinding } from '../generated/prisma/client.ts';
import type { Db } from '../prisma-client.ts';

export type BindingSubjectType = 'user' | 'group' | 'token';
export interface BindingInput {
  subjectType: BindingSubjectType;
  subjectId: string;
  role: Role;
  serviceId: string | null;
  environmentId: string | null;
}

/** The owner of role_binding. */
export async function insertRoleBinding(tx: Prisma.TransactionClient, input: BindingInput, createdBy: string): Promise<RoleBinding> {
  return tx.roleBinding.create({ data: { id: randomUUID(), ...input, createdBy } });
}

export async function findRoleBinding(db: Db, input: BindingInput): Promise<RoleBinding | null> {
  return db.roleBinding.findFirst({ where: { ...input } });
}

export async function deleteRoleBinding(tx: Prisma.TransactionClient, id: string): Promise<RoleBinding | null> {
  const found = await tx.roleBinding.findUnique({ where: { id } });
  if (found) await tx.roleBinding.delete({ where: { id } });
  return found;
}

export async function deleteBindingsOf(tx: Prisma.TransactionClient, subjectType: BindingSubjectType, subjectId: string): Promise<number> {
  return (await tx.roleBinding.deleteMany({ where: { subjectType, subjectId } })).count;
}

export type RoleBindingWithNames = RoleBinding & { service: { name: string } | null; environment: { name: string } | null };

export async function listRoleBindings(
  db: PrismaClient,
  filter: { id?: string; subjectType?: BindingSubjectType; subjectId?: string; serviceId?: string } = {},
): Promise<RoleBindingWithNames[]> {
  return db.roleBinding.findMany({
    where: filter,
    include: { service: { select: { name: true } }, environment: { select: { name: true } } },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
  });
}

/** Every grant that applies to a token, or to a user directly and through their groups. */
export async function grantsFor(db: Db, subject: { tokenId: string } | { userId: string; groups: string[] }): Promise<Grant[]> {
  const where: Prisma.RoleBindingWhereInput =
    'tokenId' in subject
      ? { subjectType: 'token', subjectId: subject.tokenId }
      : {
          OR: [
            { subjectType: 'user', subjectId: subject.userId },
            ...(subject.groups.length ? [{ subjectType: 'group', subjectId: { in: subject.groups } }] : []),
          ],
        };
  const rows = await db.roleBinding.findMany({ where, select: { role: true, serviceId: true, environmentId: true } });
  return rows.map((r) => ({ role: r.role as Role, serviceId: r.serviceId, environmentId: r.environmentId }));
}
