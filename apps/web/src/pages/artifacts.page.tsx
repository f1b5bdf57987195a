import { useSearchParams } from 'react-router';
import { useArtifacts, type Artifact } from '../api/catalog.ts';
import { ServiceOptions } from '../components/service-options.tsx';
import { formatDateTime } from '../format.ts';

export function ArtifactsPage() {
  const [params, setParams] = useSearchParams();
  const service = params.get('service') ?? undefined;
  return (
    <>
      <h1>Artifacts</h1>
      <ArtifactsTable service={service} title="Registered builds">
        <label className="inline-field">
          Service{' '}
          <select value={service ?? ''} onChange={(event) => setParams(event.target.value ? { service: event.target.value } : {})}>
            <ServiceOptions anyLabel="All" />
          </select>
        </label>
      </ArtifactsTable>
    </>
  );
}

/** Immutable builds, newest first, with their provenance and, for AI models, the model's metadata. */
export function ArtifactsTable({ service, title, children }: { service?: string; title: string; children?: React.ReactNode }) {
  const artifacts = useArtifacts(service);
  const items = artifacts.data?.items ?? [];
  return (
    <section className="card">
      <div className="card-head">
        <h2>{title}</h2>
        {children}
      </div>
      {artifacts.error && <p className="error">Could not load artifacts: {artifacts.error.message}</p>}
      <div className="table-scroll">
        <table className="table" aria-label="Artifacts">
          <thead>
            <tr>
              <th>Service</th>
              <th>Version</th>
              <th>Digest</th>
              <th>Source</th>
              <th>Model</th>
              <th>Registered</th>
            </tr>
          </thead>
          <tbody>
            {items.map((a) => (
              <tr key={a.id} data-testid="artifact-row">
                <td>{a.service}</td>
                <td>
                  <strong>{a.version}</strong>
                </td>
                <td>
                  <code className="digest">{a.digest}</code>
                </td>
                <td>
                  {a.commitSha && <code title={a.commitSha}>{a.commitSha.slice(0, 10)}</code>}
                  {a.buildUrl && (
                    <>
                      {a.commitSha && ' · '}
                      <a href={a.buildUrl} rel="noreferrer noopener" target="_blank">
                        build
                      </a>
                    </>
                  )}
                  {!a.commitSha && !a.buildUrl && <span className="muted">—</span>}
                </td>
                <td>
                  <ModelMetadata artifact={a} />
                </td>
                <td className="nowrap">{formatDateTime(a.createdAt)}</td>
              </tr>
            ))}
            {!artifacts.isPending && items.length === 0 && (
              <tr>
                <td colSpan={6} className="muted empty">
                  No artifacts registered{service ? ` for ${service}` : ''}.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

const MODEL_FIELDS: Array<[string, string]> = [
  ['modelVersion', 'model'],
  ['dataset', 'dataset'],
];

/** An AI model's version, dataset and model card; any other metadata as key = value. */
function ModelMetadata({ artifact }: { artifact: Artifact }) {
  const metadata = artifact.metadata ?? {};
  const entries = Object.entries(metadata);
  if (!entries.length) return <span className="muted">—</span>;
  const card = typeof metadata.modelCard === 'string' && /^https?:\/\//.test(metadata.modelCard) ? metadata.modelCard : null;
  const rest = entries.filter(([k]) => !['modelVersion', 'dataset', 'modelCard'].includes(k));
  return (
    <dl className="metadata" data-testid="model-metadata">
      {MODEL_FIELDS.filter(([k]) => metadata[k] !== undefined).map(([k, label]) => (
        <div key={k}>
          <dt>{label}</dt>
          <dd>{String(metadata[k])}</dd>
        </div>
      ))}
      {card && (
        <div>
          <dt>card</dt>
          <dd>
            <a href={card} rel="noreferrer noopener" target="_blank">
              model card
            </a>
          </dd>
        </div>
      )}
      {rest.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{typeof v === 'string' ? v : JSON.stringify(v)}</dd>
        </div>
      ))}
    </dl>
  );
}
