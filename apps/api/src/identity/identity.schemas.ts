import { Type } from 'typebox';

export const RoleName = Type.Union([Type.Literal('viewer'), Type.Literal('deployer'), Type.Literal('approver'), Type.Literal('admin')], {
  description: 'viewer: read; deployer: register artifacts, start and control releases; approver: approve; admin: everything',
});
export const GroupName = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f\\u007f]+$' });
const ResourceName = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });

/** A role where it applies: no service means everywhere. */
export const ScopedRole = Type.Object(
  {
    role: RoleName,
    service: Type.Optional(Type.Union([ResourceName, Type.Null()], { description: 'only for this service (default: everywhere)' })),
    environment: Type.Optional(Type.Union([ResourceName, Type.Null()], { description: 'only for this environment of the service' })),
  },
  { additionalProperties: false },
);
export const ScopedRoleJson = Type.Object({
  role: RoleName,
  service: Type.Union([Type.String(), Type.Null()]),
  environment: Type.Union([Type.String(), Type.Null()]),
});

export const User = Type.Object(
  {
    id: Type.String(),
    issuer: Type.String(),
    subject: Type.String(),
    email: Type.Union([Type.String(), Type.Null()]),
    name: Type.Union([Type.String(), Type.Null()]),
    groups: Type.Object({
      fromProvider: Type.Array(Type.String(), { description: 'the groups claim at the last sign-in' }),
      assigned: Type.Array(Type.String(), { description: 'assigned in Glidepath' }),
    }),
    active: Type.Boolean(),
    createdAt: Type.String(),
    lastLoginAt: Type.Union([Type.String(), Type.Null()]),
    deactivatedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'User' },
);

export const RoleBinding = Type.Object(
  {
    id: Type.String(),
    subject: Type.Object({ type: Type.Union([Type.Literal('user'), Type.Literal('group'), Type.Literal('token')]), id: Type.String() }),
    role: RoleName,
    service: Type.Union([Type.String(), Type.Null()]),
    environment: Type.Union([Type.String(), Type.Null()]),
    createdBy: Type.String(),
    createdAt: Type.String(),
  },
  { $id: 'RoleBinding' },
);

export const ApiTokenJson = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    roles: Type.Array(ScopedRoleJson),
    createdBy: Type.String(),
    ownerUserId: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String(),
    expiresAt: Type.Union([Type.String(), Type.Null()]),
    lastUsedAt: Type.Union([Type.String(), Type.Null()]),
    revokedAt: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'ApiToken' },
);

export const Reason = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000 })) }, { additionalProperties: false });
