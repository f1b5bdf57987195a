// A development OpenID provider as its own process, for the demo and the browser tests:
//   GLIDEPATH_DEV_OIDC_PORT, GLIDEPATH_OIDC_CLIENT_ID, GLIDEPATH_OIDC_CLIENT_SECRET, GLIDEPATH_OIDC_REDIRECT_URL
// It prints "dev OpenID provider ready at <issuer>" once it answers.
import { DEMO_PEOPLE, startDevOidcProvider } from './dev-oidc-provider.ts';

const env = process.env;
for (const name of ['GLIDEPATH_OIDC_CLIENT_ID', 'GLIDEPATH_OIDC_CLIENT_SECRET', 'GLIDEPATH_OIDC_REDIRECT_URL']) {
  if (!env[name]) {
    console.error(`dev OpenID provider: ${name} must be set`);
    process.exit(2);
  }
}
const provider = await startDevOidcProvider({
  port: Number(env.GLIDEPATH_DEV_OIDC_PORT ?? 3002),
  clients: [{ clientId: env.GLIDEPATH_OIDC_CLIENT_ID!, clientSecret: env.GLIDEPATH_OIDC_CLIENT_SECRET!, redirectUris: [env.GLIDEPATH_OIDC_REDIRECT_URL!] }],
});
console.log(
  `dev OpenID provider ready at ${provider.issuer}; sign in as ${DEMO_PEOPLE.map((p) => `${p.login} (${p.groups.join(', ')})`).join(', ')} with any password`,
);
const stop = () => void provider.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
