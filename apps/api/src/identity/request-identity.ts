import type { Grant } from '@glidepath/core';
import type { Actor } from '@glidepath/db';

/** Who is calling: a signed-in person (session cookie) or a service account (bearer token). */
export interface RequestIdentity {
  kind: 'user' | 'token';
  /** user id or token id */
  id: string;
  /** a person's email (or name), or the token's name */
  name: string;
  groups: string[];
  grants: Grant[];
  via: 'session' | 'bearer';
  session?: { id: string; csrfToken: string; authTime: Date };
  /** For a token a person created: that person (they and their token are one approver, one requester). */
  ownerUserId?: string | null;
}

/** How the audit log names the caller: a person by user id and email, a token by its name. */
export function actorOf(identity: RequestIdentity): Actor {
  return identity.kind === 'user' ? { type: 'user', id: identity.id, name: identity.name } : { type: 'token', id: identity.name };
}
