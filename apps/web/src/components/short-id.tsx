import { shortId, splitActor } from '../format.ts';

/** Long ids (UUIDs) are shortened; the full id is in the tooltip. */
export function ShortId({ kind, id }: { kind?: string; id: string }) {
  return (
    <span className="id" title={id}>
      {kind && <span className="kind">{kind}</span>}
      <code>{shortId(id)}</code>
    </span>
  );
}

/** An actor written `<type>:<id>`, e.g. token:ci-deployer or system:reconciler. Names stay whole; UUIDs are shortened. */
export function Actor({ actorId }: { actorId: string }) {
  const { kind, id } = splitActor(actorId);
  if (/^[0-9a-f-]{20,}$/i.test(id)) return <ShortId kind={kind} id={id} />;
  return (
    <span className="id" title={actorId}>
      {kind && <span className="kind">{kind}</span>}
      <span>{id}</span>
    </span>
  );
}
