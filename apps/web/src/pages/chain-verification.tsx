import { useVerifyChain } from '../api/audit.ts';

export function ChainVerification() {
  const verify = useVerifyChain();
  const result = verify.data;
  return (
    <section className="card">
      <h2>Audit chain</h2>
      <p className="muted">Recomputes every event's hash and checks it links to the one before.</p>
      <div className="row">
        <button type="button" onClick={() => verify.mutate()} disabled={verify.isPending}>
          {verify.isPending ? 'Verifying…' : 'Verify chain'}
        </button>
        <span data-testid="chain-status" aria-live="polite">
          {verify.isError ? (
            <span className="error">{verify.error.message}</span>
          ) : result?.ok ? (
            <>
              <span className="pill ok">intact</span> {result.checked} events checked
            </>
          ) : result?.firstBroken ? (
            <>
              <span className="pill bad">broken</span> at #{result.firstBroken.seq}: {result.firstBroken.problem}
            </>
          ) : null}
        </span>
      </div>
    </section>
  );
}
