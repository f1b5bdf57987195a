import type { ReleaseDetail } from '../api/model.ts';

type Model = NonNullable<ReleaseDetail['artifact']['model']>;

/** Only http(s) links are followed: the API checks it too, this keeps any other scheme off the page. */
function safeLink(url: string | null): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}

/** The model an ML release ships, beside the verdicts that judge it: its version, data set and model card. */
export function ReleaseModel({ model }: { model: Model }) {
  const card = safeLink(model.modelCard);
  return (
    <dl className="facts model-facts" data-testid="release-model">
      <div>
        <dt>Model version</dt>
        <dd>{model.modelVersion ?? <span className="muted">not given</span>}</dd>
      </div>
      <div>
        <dt>Data set</dt>
        <dd>{model.dataset ?? <span className="muted">not given</span>}</dd>
      </div>
      <div>
        <dt>Model card</dt>
        <dd>
          {card ? (
            <a href={card} target="_blank" rel="noopener noreferrer">
              {card}
            </a>
          ) : (
            <span className="muted">not given</span>
          )}
        </dd>
      </div>
    </dl>
  );
}
