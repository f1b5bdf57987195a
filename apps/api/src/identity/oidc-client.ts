import * as client from 'openid-client';
import { isLoopbackHost, type OidcConfig } from '../config.ts';

const DISCOVERY_TIMEOUT_S = 5;

export interface SignedInPerson {
  issuer: string;
  subject: string;
  email: string | null;
  name: string | null;
  groups: string[];
  authTime: Date;
  idToken: string | undefined;
}

export interface AuthorizationRequest {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** Groups from a claim that may be a list, or one string of names separated by commas or spaces. */
export function groupsFrom(value: unknown): string[] {
  const names = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  return [...new Set(names.filter((g): g is string => typeof g === 'string' && g.length > 0 && g.length <= 200))].sort();
}

/**
 * The OpenID Connect relying party: authorization code flow with PKCE, state and nonce, the
 * ID token validated by openid-client, userinfo when the provider offers it. The provider's
 * metadata is discovered on first use and again after a failure, so Glidepath starts (and its
 * API tokens work) while the issuer is down.
 */
export function createOidcClient(config: OidcConfig, options: { probeCacheMs?: number } = {}) {
  // Enforced here, where plain http is switched on, whoever built the config.
  if (config.allowInsecure && !isLoopbackHost(new URL(config.issuer).hostname))
    throw new Error(`plain-http OpenID issuers are allowed only on loopback, not ${new URL(config.issuer).host}`);
  const probeCacheMs = options.probeCacheMs ?? 5000;
  let discovered: Promise<client.Configuration> | undefined;
  let lastProbe: { at: number; problem: string | null } | undefined;

  function configuration(): Promise<client.Configuration> {
    discovered ??= client
      .discovery(
        new URL(config.issuer),
        config.clientId,
        config.clientSecret ? { client_secret: config.clientSecret } : undefined,
        config.clientSecret ? client.ClientSecretBasic(config.clientSecret) : client.None(),
        { execute: config.allowInsecure ? [client.allowInsecureRequests] : [], timeout: DISCOVERY_TIMEOUT_S },
      )
      .catch((error: unknown) => {
        discovered = undefined;
        throw error;
      });
    return discovered;
  }

  return {
    issuer: config.issuer,
    /**
     * Null when the issuer answers with usable metadata now, else what went wrong. Asks the
     * issuer again (at most every few seconds) rather than trusting metadata fetched earlier,
     * so the sign-in page can say at once that the provider is down.
     */
    async problem(): Promise<string | null> {
      if (lastProbe && Date.now() - lastProbe.at < probeCacheMs) return lastProbe.problem;
      discovered = undefined;
      let problem: string | null = null;
      try {
        await configuration();
      } catch (error) {
        problem = describe(error);
      }
      lastProbe = { at: Date.now(), problem };
      return problem;
    },

    async authorizationRequest(options: { maxAgeSeconds?: number } = {}): Promise<AuthorizationRequest> {
      const oidc = await configuration();
      const codeVerifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(oidc, {
        redirect_uri: config.redirectUrl,
        scope: config.scopes,
        code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: 'S256',
        state,
        nonce,
        ...(options.maxAgeSeconds !== undefined ? { max_age: String(options.maxAgeSeconds) } : {}),
      });
      return { url, state, nonce, codeVerifier };
    },

    /** Exchanges the code and validates everything; throws on any mismatch. */
    async complete(callbackQuery: string, expected: { state: string; nonce: string; codeVerifier: string; maxAge: number | null }): Promise<SignedInPerson> {
      const oidc = await configuration();
      const currentUrl = new URL(config.redirectUrl);
      currentUrl.search = callbackQuery;
      const tokens = await client.authorizationCodeGrant(oidc, currentUrl, {
        pkceCodeVerifier: expected.codeVerifier,
        expectedState: expected.state,
        expectedNonce: expected.nonce,
        idTokenExpected: true,
        // Asked for a recent sign-in: the ID token's auth_time must be within it.
        ...(expected.maxAge !== null ? { maxAge: expected.maxAge } : {}),
      });
      const claims = tokens.claims()!;
      let info: Record<string, unknown> = {};
      if (oidc.serverMetadata().userinfo_endpoint && tokens.access_token) {
        info = (await client.fetchUserInfo(oidc, tokens.access_token, claims.sub)) as Record<string, unknown>;
      }
      const pick = (name: string): unknown => info[name] ?? claims[name];
      const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value.slice(0, 320) : null);
      return {
        issuer: claims.iss,
        subject: claims.sub,
        email: text(pick('email')),
        name: text(pick('name')) ?? text(pick('preferred_username')),
        groups: groupsFrom(pick(config.groupsClaim)),
        authTime: typeof claims.auth_time === 'number' ? new Date(claims.auth_time * 1000) : new Date(),
        idToken: tokens.id_token,
      };
    },
  };
}

export type OidcClient = ReturnType<typeof createOidcClient>;

function describe(error: unknown): string {
  const e = error as Error & { cause?: Error & { code?: string } };
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message} (${cause})` : e.message;
}
