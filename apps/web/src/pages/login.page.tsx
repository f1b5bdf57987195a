import { useSearchParams } from 'react-router';
import { useSsoStatus } from '../api/session.ts';

/** What each error code from /auth/callback and /auth/login means to the person signing in. */
const ERRORS: Record<string, string> = {
  sso_not_configured: 'Single sign-on is not configured on this Glidepath.',
  issuer_unreachable: 'The sign-in provider is not answering right now. Try again in a moment; API tokens keep working meanwhile.',
  sign_in_expired: 'That sign-in was already used or took longer than 10 minutes. Please sign in again.',
  state_mismatch: 'The answer from the sign-in provider did not match the sign-in this browser started, so it was refused. Please sign in again.',
  provider_refused: 'The sign-in provider refused the sign-in.',
  sign_in_failed: 'The sign-in provider’s answer could not be verified, so it was refused. Please sign in again.',
  account_deactivated: 'Your Glidepath account is deactivated. Ask an administrator to reactivate it.',
};

export function LoginPage() {
  const [params] = useSearchParams();
  const status = useSsoStatus();
  const error = params.get('error');
  const returnTo = params.get('returnTo') ?? '/';
  const sso = status.data?.sso;
  return (
    <div className="login">
      <div className="card login-card">
        <h1>Sign in to Glidepath</h1>
        {params.has('signedOut') && (
          <p className="notice notice-ok" role="status">
            You are signed out.
          </p>
        )}
        {error && (
          <p className="notice notice-bad" role="alert" data-testid="sign-in-error">
            {ERRORS[error] ?? `Sign-in failed (${error}).`}
          </p>
        )}
        {sso === 'unreachable' && error !== 'issuer_unreachable' && (
          <p className="notice notice-bad" role="alert" data-testid="issuer-down">
            The sign-in provider ({status.data?.issuer}) is not answering: {status.data?.problem}. API tokens keep working.
          </p>
        )}
        {sso === 'not-configured' ? (
          <p className="muted">
            Single sign-on is not configured. An operator sets <code>GLIDEPATH_OIDC_ISSUER</code>, <code>GLIDEPATH_OIDC_CLIENT_ID</code> and{' '}
            <code>GLIDEPATH_OIDC_CLIENT_SECRET</code> (see the README); until then only API tokens can call Glidepath.
          </p>
        ) : (
          <a className="button button-primary login-button" href={`/auth/login?returnTo=${encodeURIComponent(returnTo)}`}>
            Sign in with single sign-on
          </a>
        )}
        {status.data?.issuer && <p className="muted login-issuer">Provider: {status.data.issuer}</p>}
      </div>
    </div>
  );
}
