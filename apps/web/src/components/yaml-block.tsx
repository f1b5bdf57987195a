import { stringify } from 'yaml';

/** A document (plan, policy, provider config) as YAML, the way people write them. */
export function YamlBlock({ value, label }: { value: unknown; label: string }) {
  return (
    <pre className="yaml" aria-label={label} tabIndex={0}>
      {value === null || value === undefined ? '# none' : stringify(value, { lineWidth: 0 })}
    </pre>
  );
}
