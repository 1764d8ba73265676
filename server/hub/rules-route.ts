/** The HTTP routes of a stream's alert rules: list (read token), add and remove (control token). */
import type { IncomingMessage } from 'node:http';
import type { RuleRequest } from '../../shared/protocol/rules.js';
import { RuleError } from '../alerts/stream-rules.js';
import type { AccessPolicy } from './access.js';
import { HttpError, readJsonBody, requireControl } from './http-json.js';
import type { StreamControl } from './stream-control.js';

/** `GET|POST /api/streams/:id/rules`, `DELETE /api/streams/:id/rules/:ruleId`. */
export async function handleRules(
  request: IncomingMessage,
  streams: StreamControl,
  access: AccessPolicy,
  [stream, ruleId]: [string, string | undefined],
): Promise<[number, unknown]> {
  if (!streams.hasStream(stream)) throw new HttpError(404, { error: `no stream "${stream}"` });
  if (request.method === 'GET' && !ruleId) return [200, { rules: streams.listRules(stream) }];
  requireControl(request, access, 'rules');
  if (request.method === 'POST' && !ruleId) {
    try {
      return [201, streams.addRule(stream, (await readJsonBody(request)) as RuleRequest)];
    } catch (error) {
      if (error instanceof RuleError) throw new HttpError(422, { error: error.message });
      throw error;
    }
  }
  if (request.method === 'DELETE' && ruleId) {
    if (!streams.removeRule(stream, ruleId))
      throw new HttpError(404, { error: `no rule "${ruleId}" on stream "${stream}"` });
    return [200, { removed: ruleId }];
  }
  throw new HttpError(405, { error: `${request.method} is not allowed here` });
}
