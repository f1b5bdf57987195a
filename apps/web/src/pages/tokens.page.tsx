import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, csrf as csrfHeader, unwrap } from '../api/http.ts';
import { describeRole, useMe, type ScopedRole } from '../api/session.ts';
import { formatWhen } from '../format.ts';

const tokensKey = ['tokens'] as const;
const ROLES: ScopedRole['role'][] = ['viewer', 'deployer', 'approver', 'admin'];

/** Service-account tokens (admins): create one (its secret is shown once), list, revoke. */
export function TokensPage() {
  const me = useMe();
  const queryClient = useQueryClient();
  const csrf = me.data?.session?.csrfToken ?? '';
  const tokens = useQuery({ queryKey: tokensKey, queryFn: () => unwrap(api.GET('/api/v1/tokens')) });
  const [form, setForm] = useState({ name: '', role: 'deployer' as ScopedRole['role'], service: '', environment: '', expiresInDays: '90' });
  const [secret, setSecret] = useState<{ name: string; token: string } | null>(null);
  const create = useMutation({
    mutationFn: async () => {
      const days = Number(form.expiresInDays);
      const body = {
        name: form.name,
        roles: [{ role: form.role, ...(form.service ? { service: form.service } : {}), ...(form.environment ? { environment: form.environment } : {}) }],
        ...(days > 0 ? { expiresAt: new Date(Date.now() + days * 86_400_000).toISOString() } : {}),
      };
      return unwrap(api.POST('/api/v1/tokens', { body, ...csrfHeader(csrf) }));
    },
    onSuccess: (created) => {
      setSecret({ name: created.name, token: created.token });
      setForm((f) => ({ ...f, name: '' }));
      void queryClient.invalidateQueries({ queryKey: tokensKey });
    },
  });
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/api/v1/tokens/{id}/revoke', { params: { path: { id } }, body: {}, ...csrfHeader(csrf) })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: tokensKey }),
  });

  return (
    <>
      <h1>API tokens</h1>
      <section className="card">
        <h2>New service-account token</h2>
        <form
          className="token-form"
          aria-label="New token"
          onSubmit={(event) => {
            event.preventDefault();
            setSecret(null);
            create.mutate();
          }}
        >
          <label>
            Name
            <input
              required
              pattern="[a-z0-9][a-z0-9-]{0,62}"
              value={form.name}
              onChange={(e) => setForm({ ...form, name: e.target.value })}
              placeholder="ci-checkout"
            />
          </label>
          <label>
            Role
            <select value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value as ScopedRole['role'] })}>
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <label>
            Service (empty: all)
            <input value={form.service} onChange={(e) => setForm({ ...form, service: e.target.value })} />
          </label>
          <label>
            Environment (empty: all of the service)
            <input value={form.environment} onChange={(e) => setForm({ ...form, environment: e.target.value })} disabled={!form.service} />
          </label>
          <label>
            Expires after (days, 0: never)
            <input type="number" min={0} max={3650} value={form.expiresInDays} onChange={(e) => setForm({ ...form, expiresInDays: e.target.value })} />
          </label>
          <div className="control-buttons">
            <button type="submit" disabled={create.isPending}>
              Create token
            </button>
          </div>
        </form>
        {create.error && (
          <p className="notice notice-bad" role="alert">
            {create.error.message}
          </p>
        )}
        {secret && (
          <div className="notice notice-ok" role="status" data-testid="new-token">
            Token <strong>{secret.name}</strong>, shown this once — copy it now: <code className="secret">{secret.token}</code>
          </div>
        )}
      </section>
      <section className="card">
        {tokens.error && <p className="error">Could not load the tokens: {tokens.error.message}</p>}
        {revoke.error && (
          <p className="notice notice-bad" role="alert">
            {revoke.error.message}
          </p>
        )}
        <table className="table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Roles</th>
              <th>Created</th>
              <th>Expires</th>
              <th>Last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.data?.items.map((t) => (
              <tr key={t.id} data-testid="token-row">
                <td>{t.name}</td>
                <td>{t.revokedAt ? <span className="muted">revoked {formatWhen(t.revokedAt)}</span> : t.roles.map(describeRole).join(', ')}</td>
                <td title={t.createdAt}>
                  {formatWhen(t.createdAt)} <span className="muted">by {t.createdBy}</span>
                </td>
                <td>{t.expiresAt ? formatWhen(t.expiresAt) : 'never'}</td>
                <td>{t.lastUsedAt ? formatWhen(t.lastUsedAt) : <span className="muted">never</span>}</td>
                <td>
                  {!t.revokedAt && (
                    <button
                      type="button"
                      className="danger"
                      aria-label={`Revoke ${t.name}`}
                      onClick={() => window.confirm(`Revoke token ${t.name}? It stops at once.`) && revoke.mutate(t.id)}
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
