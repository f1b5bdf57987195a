import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';

export interface DevPerson {
  /** What a person types in the login field; also their subject. */
  login: string;
  name: string;
  email: string;
  groups: string[];
}

/** The demo's people: someone who asks, two approvers, an admin, a reader. */
export const DEMO_PEOPLE: DevPerson[] = [
  { login: 'alice', name: 'Alice Requester', email: 'alice@example.test', groups: ['release-managers'] },
  { login: 'bob', name: 'Bob Approver', email: 'bob@example.test', groups: ['prod-approvers'] },
  { login: 'carol', name: 'Carol Approver', email: 'carol@example.test', groups: ['prod-approvers'] },
  { login: 'dana', name: 'Dana Admin', email: 'dana@example.test', groups: ['glidepath-admins'] },
  { login: 'victor', name: 'Victor Viewer', email: 'victor@example.test', groups: ['engineering'] },
];

export interface DevClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export interface DevOidcProvider {
  issuer: string;
  port: number;
  close(): Promise<void>;
}

/**
 * A real OpenID Connect provider on loopback (the `oidc-provider` package) with its
 * development login form, which takes any password. People not in `people` sign in too, with
 * no groups. Groups are sent in the ID token and userinfo under `groups`.
 */
export async function startDevOidcProvider(options: {
  port?: number;
  clients: DevClient[];
  people?: DevPerson[];
  idTokenTtlSeconds?: number;
}): Promise<DevOidcProvider> {
  const people = new Map((options.people ?? DEMO_PEOPLE).map((p) => [p.login, p]));
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;

  const configuration: Configuration = {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    async findAccount(_ctx: KoaContextWithOIDC, id: string) {
      const person = people.get(id) ?? { login: id, name: id, email: `${id}@example.test`, groups: [] };
      return {
        accountId: id,
        async claims() {
          return { sub: id, name: person.name, email: person.email, email_verified: true, groups: person.groups };
        },
      };
    },
    claims: { openid: ['sub', 'groups'], email: ['email', 'email_verified'], profile: ['name'] },
    // Custom claims such as groups in the ID token, not only from userinfo.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    ttl: { IdToken: options.idTokenTtlSeconds ?? 3600 },
    // A first-party app: no consent screen, every requested scope granted.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId });
      grant.addOIDCScope('openid email profile');
      grant.addOIDCClaims(['groups', 'email', 'email_verified', 'name']);
      await grant.save();
      return grant;
    },
  };
  const provider = new Provider(issuer, configuration);
  server.on('request', provider.callback());
  return {
    issuer,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
