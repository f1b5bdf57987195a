import { useState } from 'react';
import { describeRole, signOut, type Me } from '../api/session.ts';

/** Who is signed in and what they may do, with a sign-out button. */
export function SignedInUser({ me }: { me: Me }) {
  const [error, setError] = useState<string | null>(null);
  const roles = me.roles.length ? me.roles.map(describeRole).join(', ') : 'no role yet';
  return (
    <span className="whoami" data-testid="whoami">
      <span className="whoami-name">{me.name}</span>
      <span className="whoami-roles" data-testid="whoami-roles">
        {roles}
      </span>
      {me.session && (
        <button
          type="button"
          className="button-quiet"
          onClick={() => {
            signOut(me.session!.csrfToken).then(
              () => location.assign('/login?signedOut=1'),
              (e: Error) => setError(e.message),
            );
          }}
        >
          Sign out
        </button>
      )}
      {error && <span role="alert">{error}</span>}
    </span>
  );
}
