/**
 * The dashboard's access token. A token in the page's URL (`?token=…`, as the monitor prints it)
 * is taken once, wins over a stored one, and is removed from the address bar (no token in the
 * history, bookmarks or a screen share); it is kept in localStorage. Requests carry it in
 * `Authorization`, the WebSocket as a subprotocol (browsers cannot set its headers).
 */
export const TOKEN_KEY = 'tutti-token';

/** The token to use, and the page's URL without it (`undefined` when there was none in it). */
export function takeToken(
  href: string,
  stored: string | null,
): { token: string; cleanedUrl?: string } {
  const url = new URL(href);
  const given = url.searchParams.get('token');
  if (given === null) return { token: stored ?? '' };
  url.searchParams.delete('token');
  return { token: given, cleanedUrl: `${url.pathname}${url.search}${url.hash}` };
}

/** WebSocket subprotocols: the monitor's, and the token in base64url. */
export function tokenProtocols(token: string): string[] {
  if (!token) return ['tutti'];
  let binary = '';
  for (const byte of new TextEncoder().encode(token)) binary += String.fromCharCode(byte);
  const encoded = btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return ['tutti', `tutti-token.${encoded}`];
}

export function authorisation(token: string): { headers: Record<string, string> } {
  return { headers: token ? { authorization: `Bearer ${token}` } : {} };
}
