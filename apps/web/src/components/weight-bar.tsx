/** The canary's share of traffic as a small bar with the number beside it. */
export function WeightBar({ weight }: { weight: number }) {
  const clamped = Math.max(0, Math.min(100, weight));
  return (
    <span className="weight" title={`${weight}% of traffic on the new version`}>
      <span className="weight-track" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={clamped} aria-label="canary weight">
        <span className="weight-fill" style={{ width: `${clamped}%` }} />
      </span>
      <span className="weight-value">{weight}%</span>
    </span>
  );
}
