import { createHash, randomBytes } from 'node:crypto';

/** Secrets are 256 random bits, so a plain sha256 is enough to make a leaked table useless. */
export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}
