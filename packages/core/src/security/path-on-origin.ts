/**
 * A smoke check names a path on the environment's base URL, and must stay there. URL
 * resolution would take `//other-host/x` (and `/\other-host/x`, and `/<tab>/other-host`, since
 * the parser drops tabs and newlines) to another host, so those are refused as paths.
 */
export function pathProblem(path: string): string | null {
  if (!path.startsWith('/')) return 'must start with /';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(path)) return 'must not contain spaces or control characters';
  if (path.startsWith('//') || path.startsWith('/\\')) return 'must be a path on the environment, not //host/… (another host)';
  return null;
}

/** The URL a check calls: the path on the base URL's origin, or why it would leave it. */
export function urlOnOrigin(baseUrl: string, path: string): { ok: true; url: URL } | { ok: false; reason: string } {
  const problem = pathProblem(path);
  if (problem) return { ok: false, reason: `path ${JSON.stringify(path)} ${problem}` };
  const base = new URL(baseUrl);
  const url = new URL(path, base);
  if (url.origin !== base.origin) return { ok: false, reason: `path ${JSON.stringify(path)} leads to ${url.origin}, not ${base.origin}` };
  // Credentials on the base URL go with its checks.
  url.username = base.username;
  url.password = base.password;
  return { ok: true, url };
}
