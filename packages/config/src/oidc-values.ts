import { Refusal } from './config-error.ts';
import { shownValue, url, type ValueType } from './value-types.ts';

/** 127.0.0.0/8, ::1 and localhost: the only hosts a plain-http issuer may be on. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127(\.\d{1,3}){3}$/.test(hostname);
}

const anyIssuer = url(['https:', 'http:']);

/** Plain http would let anyone on the path forge sign-ins; it is allowed only for an issuer on this machine (dev and tests). */
export const oidcIssuer: ValueType<string | undefined> = {
  rule: 'an https URL (plain http only for an issuer on loopback)',
  shown: 'none (sign-in off)',
  read(raw) {
    const issuer = anyIssuer.read(raw);
    if (issuer === undefined) return undefined;
    const parsed = new URL(issuer);
    if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) throw new Refusal(shownValue(issuer));
    return issuer;
  },
};

export const oidcScopes: ValueType<string> = {
  rule: 'space-separated scopes that include openid',
  shown: 'openid email profile',
  read(raw) {
    if (raw === undefined || raw === '') return 'openid email profile';
    if (!raw.split(' ').includes('openid')) throw new Refusal(shownValue(raw));
    return raw;
  },
};
