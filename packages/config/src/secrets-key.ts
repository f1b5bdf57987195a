import { createHash } from 'node:crypto';
import { Refusal } from './config-error.ts';
import type { ValueType } from './value-types.ts';

/** Outside production a missing key falls back to a fixed development key (the apps warn); in production it must be set. */
export const DEVELOPMENT_SECRETS_KEY = createHash('sha256').update('glidepath development secrets key: never use in production').digest();

/** GLIDEPATH_SECRETS_KEY: 32 bytes, base64 (or 64 hex digits); never echoed in a refusal. */
export const secretsKey: ValueType<Buffer | undefined> = {
  rule: '32 bytes, base64 or hex (openssl rand -base64 32)',
  shown: 'development key',
  read(raw) {
    if (raw === undefined || raw === '') return undefined;
    const key = /^[0-9a-f]{64}$/i.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
    if (key.length !== 32) throw new Refusal(`a value of ${raw.length} characters`);
    return key;
  },
};
