/** Where the CLI keeps its log when no `--store` is given. */
export const DEFAULT_STORE_URL = 'file:./data';

/** The URL with any password replaced by `***`, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}

/**
 * Splits the query parameters named in `own` (clearsim's, e.g. `stream`) off
 * a store URL. The rest of the URL goes to the driver byte for byte.
 */
export function splitOwnParams(url: string, own: readonly string[]): { connectionString: string; params: Map<string, string> } {
  const params = new Map<string, string>();
  const query = url.indexOf('?');
  if (query < 0) return { connectionString: url, params };
  const kept: string[] = [];
  for (const pair of url.slice(query + 1).split('&')) {
    const eq = pair.indexOf('=');
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    if (own.includes(key)) params.set(key, decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1).replace(/\+/g, ' ')));
    else if (pair !== '') kept.push(pair);
  }
  return { connectionString: url.slice(0, query) + (kept.length > 0 ? `?${kept.join('&')}` : ''), params };
}
