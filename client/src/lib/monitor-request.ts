/** A request to the monitor's HTTP API carrying the token, and why the monitor refused it. */
import { authorisation } from './access-token';

/** The monitor's response; throws an Error with its JSON `error` (else the status) when refused. */
export async function monitorRequest(
  url: string,
  token: string,
  init: RequestInit = {},
): Promise<Response> {
  const headers = {
    ...(init.headers as Record<string, string> | undefined),
    ...authorisation(token).headers,
  };
  const response = await fetch(url, { ...init, headers });
  if (response.ok) return response;
  const body = (await response.json().catch(() => ({}))) as { error?: string };
  throw new Error(body.error ?? `HTTP ${response.status}`);
}
