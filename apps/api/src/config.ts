import { loadSettings, sharedConfig, type Env, type SharedConfig } from '@glidepath/config';
import { fileURLToPath } from 'node:url';

export { ConfigError, isLoopbackHost } from '@glidepath/config';

/** The API's settings; what it shares with the worker comes from @glidepath/config's sharedConfig. */
export interface ApiConfig extends SharedConfig {
  host: string;
  port: number;
  /** Built dashboard to serve at `/`; absent in dev, where Vite serves it. */
  webDist: string;
  /** Becomes the admin token named "bootstrap" (for first setup and the demo). */
  bootstrapToken: string | undefined;
  /** Where people reach Glidepath; https makes session cookies Secure. */
  publicUrl: string;
  /** Single sign-on; absent when no issuer is configured (API tokens only). */
  oidc: OidcConfig | undefined;
  sessions: { idleMs: number; absoluteMs: number };
  /** Serve /api/docs and /api/openapi.json without sign-in. */
  publicApiDocs: boolean;
  /** How recent an approver's sign-in must be to approve in a protected environment. */
  approvalMaxAuthAgeMs: number;
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** Absent for a public client (PKCE alone). */
  clientSecret: string | undefined;
  redirectUrl: string;
  scopes: string;
  groupsClaim: string;
  /** Plain http, allowed only for an issuer on this machine (dev and tests). */
  allowInsecure: boolean;
}

/** Picks the API's shape from the one validated schema (which throws a ConfigError listing every problem). */
export function loadConfig(env: Env): ApiConfig {
  const s = loadSettings(env, 'api');
  const host = s.GLIDEPATH_HOST;
  // A wildcard listen address is no address to send people to.
  const reachableHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const publicUrl = (s.GLIDEPATH_PUBLIC_URL ?? `http://${reachableHost}:${s.GLIDEPATH_PORT}`).replace(/\/$/, '');
  const issuer = s.GLIDEPATH_OIDC_ISSUER;
  return {
    ...sharedConfig(s),
    host,
    port: s.GLIDEPATH_PORT,
    webDist: s.GLIDEPATH_WEB_DIST ?? fileURLToPath(new URL('../../web/dist', import.meta.url)),
    bootstrapToken: s.GLIDEPATH_BOOTSTRAP_TOKEN,
    publicUrl,
    oidc:
      issuer === undefined
        ? undefined
        : {
            issuer,
            // loadSettings refuses an issuer without a client id.
            clientId: s.GLIDEPATH_OIDC_CLIENT_ID!,
            clientSecret: s.GLIDEPATH_OIDC_CLIENT_SECRET,
            redirectUrl: s.GLIDEPATH_OIDC_REDIRECT_URL ?? `${publicUrl}/auth/callback`,
            scopes: s.GLIDEPATH_OIDC_SCOPES,
            groupsClaim: s.GLIDEPATH_OIDC_GROUPS_CLAIM,
            allowInsecure: new URL(issuer).protocol === 'http:',
          },
    sessions: { idleMs: s.GLIDEPATH_SESSION_IDLE_MINUTES * 60_000, absoluteMs: s.GLIDEPATH_SESSION_MAX_HOURS * 3_600_000 },
    publicApiDocs: s.GLIDEPATH_PUBLIC_API_DOCS,
    approvalMaxAuthAgeMs: s.GLIDEPATH_APPROVAL_MAX_AUTH_AGE_MINUTES * 60_000,
  };
}
