export { startDevOidcProvider, DEMO_PEOPLE, type DevPerson, type DevClient, type DevOidcProvider } from './dev-oidc-provider.ts';
export { signInAtProvider } from './sign-in.ts';
