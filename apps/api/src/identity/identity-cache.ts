import type { GlidepathEvent } from '@glidepath/db';

/** Audit actions after which what any credential is worth may have changed. */
export const IDENTITY_CHANGES = new Set([
  'user.deactivated',
  'user.activated',
  'user.signed-out',
  'user.signed-out-everywhere',
  'token.revoked',
  'token.rotated',
  'role.granted',
  'role.revoked',
  'group.member-added',
  'group.member-removed',
]);

export function isIdentityChange(event: GlidepathEvent): boolean {
  return event.type === 'audit.appended' && IDENTITY_CHANGES.has((event.data as { action?: string }).action ?? '');
}

/**
 * Valid credentials, remembered for a few seconds so that reads do not look the token or
 * session and its role bindings up each time. Emptied at once in this process by any change
 * to people, tokens or roles made here, and within milliseconds in every other API process
 * through the event bus; should an event be lost, an entry still lives at most `ttlMs`.
 */
export function createIdentityCache<T>(options: { ttlMs?: number; maxEntries?: number } = {}) {
  const ttlMs = options.ttlMs ?? 10_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, { value: T; expires: number }>();
  return {
    get(key: string): T | undefined {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expires <= Date.now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    set(key: string, value: T): void {
      if (entries.size >= maxEntries) entries.clear();
      entries.set(key, { value, expires: Date.now() + ttlMs });
    },
    clear(): void {
      entries.clear();
    },
  };
}

export type IdentityCache<T> = ReturnType<typeof createIdentityCache<T>>;
