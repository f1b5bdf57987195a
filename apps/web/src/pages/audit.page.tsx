import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { auditQuery, type AuditFilter } from '../api/audit.ts';
import { useEnvironments, useServices } from '../api/catalog.ts';
import { ServiceOptions } from '../components/service-options.tsx';
import { AuditLog } from './audit-log.tsx';
import { ChainVerification } from './chain-verification.tsx';

const FIELDS = ['actor', 'action', 'service', 'environmentId', 'requestId', 'from', 'to'] as const;

/** Filters live in the address, so a filtered view can be shared and the back button works. */
export function AuditPage() {
  const [params, setParams] = useSearchParams();
  const filter: AuditFilter = Object.fromEntries(FIELDS.map((f) => [f, params.get(f) ?? undefined]).filter(([, v]) => v));
  const exportQuery = new URLSearchParams(Object.entries(auditQuery(filter)).filter((entry): entry is [string, string] => entry[1] !== undefined)).toString();
  return (
    <>
      <h1>Audit log</h1>
      <div className="grid">
        <ChainVerification />
      </div>
      <AuditLog filter={filter} title="Events">
        <AuditFilters key={params.toString()} filter={filter} onApply={(next) => setParams(toParams(next))} />
        <p className="row">
          <a className="button secondary" href={`/api/v1/audit/export${exportQuery ? `?${exportQuery}` : ''}`} download data-testid="audit-export">
            Export {Object.keys(filter).length ? 'matching events' : 'all events'} (NDJSON)
          </a>
        </p>
      </AuditLog>
    </>
  );
}

function toParams(filter: AuditFilter): URLSearchParams {
  return new URLSearchParams(Object.entries(filter).filter((entry): entry is [string, string] => Boolean(entry[1])));
}

/** datetime-local works in the viewer's time zone; the API takes ISO instants. */
const toLocalInput = (iso?: string) => {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};
const fromLocalInput = (value: string) => (value ? new Date(value).toISOString() : undefined);

function AuditFilters({ filter, onApply }: { filter: AuditFilter; onApply: (filter: AuditFilter) => void }) {
  const [draft, setDraft] = useState<AuditFilter>(filter);
  const services = useServices().data?.items ?? [];
  const service = services.find((s) => s.name === draft.service);
  const environments = useEnvironments(draft.service || undefined).data?.items ?? [];
  const set = (field: keyof AuditFilter) => (event: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) =>
    setDraft((d) => ({ ...d, [field]: event.target.value || undefined, ...(field === 'service' ? { environmentId: undefined } : {}) }));
  return (
    <form
      className="filters"
      aria-label="Filter audit events"
      onSubmit={(event) => {
        event.preventDefault();
        onApply(draft);
      }}
    >
      <label>
        Actor
        <input value={draft.actor ?? ''} onChange={set('actor')} placeholder="email, token name or id" />
      </label>
      <label>
        Action
        <input value={draft.action ?? ''} onChange={set('action')} placeholder="release.rolled-back" />
      </label>
      <label>
        Service
        <select value={draft.service ?? ''} onChange={set('service')} aria-label="Service">
          <ServiceOptions anyLabel="Any" />
        </select>
      </label>
      <label>
        Environment
        <select value={draft.environmentId ?? ''} onChange={set('environmentId')} disabled={!service} aria-label="Environment">
          <option value="">{service ? 'Any' : 'Choose a service first'}</option>
          {environments.map((e) => (
            <option key={e.id} value={e.id}>
              {e.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        From
        <input type="datetime-local" value={toLocalInput(draft.from)} onChange={(e) => setDraft((d) => ({ ...d, from: fromLocalInput(e.target.value) }))} />
      </label>
      <label>
        To
        <input type="datetime-local" value={toLocalInput(draft.to)} onChange={(e) => setDraft((d) => ({ ...d, to: fromLocalInput(e.target.value) }))} />
      </label>
      {draft.requestId && (
        <label>
          Request
          <input value={draft.requestId} onChange={set('requestId')} />
        </label>
      )}
      <div className="control-buttons">
        <button type="submit">Apply filters</button>
        <button type="button" className="secondary" onClick={() => onApply({})}>
          Clear
        </button>
      </div>
    </form>
  );
}
