import { useServices } from '../api/catalog.ts';

/** The options of a service picker: "any" first (its label given), then every service the viewer may see. */
export function ServiceOptions({ anyLabel }: { anyLabel: string }) {
  const services = useServices().data?.items ?? [];
  return (
    <>
      <option value="">{anyLabel}</option>
      {services.map((s) => (
        <option key={s.id} value={s.name}>
          {s.name}
        </option>
      ))}
    </>
  );
}
