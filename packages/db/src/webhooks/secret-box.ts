import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * Encrypts secrets Glidepath must use again later (webhook signing secrets) with AES-256-GCM.
 * The key comes from GLIDEPATH_SECRETS_KEY (32 bytes, base64); a stored value is
 * `v1.<iv>.<tag>.<ciphertext>` in base64url, so a leaked table reveals nothing without the key.
 */
export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new Error('the secrets key must be 32 bytes');
  return {
    seal(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return ['v1', iv, cipher.getAuthTag(), ciphertext].map((part) => (typeof part === 'string' ? part : part.toString('base64url'))).join('.');
    },
    open(sealed) {
      const [version, iv, tag, ciphertext] = sealed.split('.');
      if (version !== 'v1' || !iv || !tag || ciphertext === undefined) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    },
  };
}

/** Outside production a missing key falls back to a fixed development key (the caller warns); in production it must be set. */
export const DEVELOPMENT_SECRETS_KEY = createHash('sha256').update('glidepath development secrets key: never use in production').digest();

/** The key from GLIDEPATH_SECRETS_KEY: 32 bytes, base64 (or 64 hex digits). */
export function parseSecretsKey(value: string): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (key.length !== 32) throw new Error('GLIDEPATH_SECRETS_KEY must be 32 bytes, base64 or hex (openssl rand -base64 32)');
  return key;
}

/**
 * The secrets key from the environment, as the API and the worker read it: required in
 * production (throws), the development key elsewhere when unset (then `development` is true).
 */
export function secretsKeyFromEnv(env: NodeJS.ProcessEnv, production: boolean): { key: Buffer; development: boolean } {
  const value = env.GLIDEPATH_SECRETS_KEY;
  if (value) return { key: parseSecretsKey(value), development: false };
  if (production) throw new Error('GLIDEPATH_SECRETS_KEY is required in production (32 bytes, base64: openssl rand -base64 32)');
  return { key: DEVELOPMENT_SECRETS_KEY, development: true };
}
