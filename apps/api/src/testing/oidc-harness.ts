import { createServer } from 'node:net';
import { signInAtProvider, startDevOidcProvider, type DevOidcProvider } from '@glidepath/dev-oidc';
import { createOidcClient } from '../identity/oidc-client.ts';
import { createTestApp } from './test-app.ts';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function cookieFrom(response: Response, name: string): string | undefined {
  const line = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return line?.split(';')[0]!.slice(name.length + 1);
}

export interface Me {
  id: string;
  name: string;
  groups: string[];
  roles: unknown[];
  session: { csrfToken: string };
}

/**
 * The real API on a real port with a real OpenID provider (oidc-provider on loopback), and
 * what a browser does to sign in. No identity cache: tests age sessions in the database.
 */
export async function createOidcHarness() {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const redirectUrl = `${base}/auth/callback`;
  const secret = 'test-client-secret-0123456789';
  const provider: DevOidcProvider = await startDevOidcProvider({
    clients: [{ clientId: 'glidepath-test', clientSecret: secret, redirectUris: [redirectUrl] }],
  });
  const oidc = createOidcClient(
    {
      issuer: provider.issuer,
      clientId: 'glidepath-test',
      clientSecret: secret,
      redirectUrl,
      scopes: 'openid email profile',
      groupsClaim: 'groups',
      allowInsecure: true,
    },
    { probeCacheMs: 0 },
  );
  const t = await createTestApp({ access: { oidc, publicUrl: base, identityCacheTtlMs: 0 } });
  await t.app.listen({ host: '127.0.0.1', port });

  function api(method: string, path: string, session: string | undefined, options: { csrf?: string; body?: unknown; headers?: Record<string, string> } = {}) {
    return fetch(`${base}${path}`, {
      method,
      headers: {
        ...(session ? { cookie: `glidepath_session=${session}` } : {}),
        ...(options.csrf ? { 'x-csrf-token': options.csrf } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  }

  /** Starts at /auth/login, signs in at the provider; returns the callback URL, not yet visited. */
  async function beginSignIn(login: string, query = 'returnTo=%2Freleases') {
    const start = await fetch(`${base}/auth/login?${query}`, { redirect: 'manual' });
    if (start.status !== 302) throw new Error(`/auth/login answered ${start.status}`);
    const loginCookie = cookieFrom(start, 'glidepath_login')!;
    const callbackUrl = await signInAtProvider(start.headers.get('location')!, login, redirectUrl);
    return { loginCookie, callbackUrl };
  }

  function callback(callbackUrl: string, loginCookie: string | undefined) {
    return fetch(callbackUrl, { redirect: 'manual', headers: loginCookie ? { cookie: `glidepath_login=${loginCookie}` } : {} });
  }

  /** A whole sign-in: the session cookie, who /api/v1/me says it is, and the callback's reply. */
  async function signIn(login: string, query?: string) {
    const { loginCookie, callbackUrl } = await beginSignIn(login, query);
    const done = await callback(callbackUrl, loginCookie);
    const session = cookieFrom(done, 'glidepath_session');
    if (!session) throw new Error(`no session after signing in as ${login}: ${done.status} ${done.headers.get('location')}`);
    const me = (await (await api('GET', '/api/v1/me', session)).json()) as Me;
    return { session, me, done, csrf: me.session.csrfToken };
  }

  return {
    t,
    provider,
    base,
    redirectUrl,
    api,
    beginSignIn,
    callback,
    signIn,
    async close() {
      await t.close();
      await provider.close();
    },
  };
}
