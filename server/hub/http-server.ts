/**
 * The HTTP face of the monitor: health, the question space, each stream's standing questions,
 * pictures and history, its rules (rules-route.ts) and exports (export-route.ts), `/metrics`, and
 * the dashboard. Request bodies are validated with the schemas in shared/protocol; every error is
 * a JSON body that says what was wrong.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import {
  ANSWERS,
  INSTRUMENTS,
  PLACEHOLDER_VALUES,
  QUESTION_TYPES,
  QuestionParseError,
  TEMPLATES,
  parseQuestion,
} from '../../shared/question-space/index.js';
import {
  parseQuestionRequestSchema,
  type ParsedQuestionMessage,
} from '../../shared/protocol/questions.js';
import { healthResponseSchema, type HealthResponse } from '../../shared/protocol/health.js';
import { MAX_HISTORY_PAGE } from '../storage/history-page.js';
import { HistoryBusyError, HistoryQueryError } from '../storage/history-reader.js';
import { AccessPolicy } from './access.js';
import { frameToJpeg } from './frame-jpeg.js';
import type { MonitorMetrics } from './metrics.js';
import { sendExport } from './export-route.js';
import { HttpError, readJsonBody, requireControl, sendJson } from './http-json.js';
import { handleRules } from './rules-route.js';
import type { StreamControl } from './stream-control.js';

function handleParse(body: unknown): ParsedQuestionMessage {
  const request = parseQuestionRequestSchema.safeParse(body);
  if (!request.success) throw new HttpError(400, { error: z.prettifyError(request.error) });
  try {
    const parsed = parseQuestion(request.data.question, request.data.values);
    return {
      templateId: parsed.template.id,
      template: parsed.template.text,
      type: parsed.type,
      values: [...parsed.values],
      sentence: parsed.sentence,
    };
  } catch (error) {
    if (!(error instanceof QuestionParseError)) throw error;
    throw new HttpError(422, { error: error.message, nearest: error.nearestTemplates() });
  }
}

const QUESTION_SPACE = {
  instruments: INSTRUMENTS,
  placeholders: PLACEHOLDER_VALUES,
  types: QUESTION_TYPES,
  answers: ANSWERS,
  templates: TEMPLATES,
};

const QUESTIONS_ROUTE = /^\/api\/streams\/([\w.-]{1,64})\/questions(?:\/([\w-]{1,64}))?$/;
const RULES_ROUTE = /^\/api\/streams\/([\w.-]{1,64})\/rules(?:\/([\w-]{1,64}))?$/;
const HISTORY_ROUTE = /^\/api\/streams\/([\w.-]{1,64})\/history$/;
const FRAME_ROUTE = /^\/api\/streams\/([\w.-]{1,64})\/frame\.jpg$/;
const EXPORT_ROUTE = /^\/api\/streams\/([\w.-]{1,64})\/export$/;

const historyQuerySchema = z.object({
  from: z.coerce.number().optional(),
  to: z.coerce.number().optional(),
  type: z
    .enum(['answer', 'answer-change', 'stream-status', 'questions', 'rules', 'alert'])
    .optional(),
  limit: z.coerce.number().int().min(1).max(MAX_HISTORY_PAGE).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  cursor: z.string().max(64).optional(),
});

/** Standing questions over HTTP: list (read access); add and remove (the control token). */
async function handleQuestions(
  request: IncomingMessage,
  streams: StreamControl,
  access: AccessPolicy,
  [stream, questionId]: [string, string | undefined],
): Promise<[number, unknown]> {
  if (!streams.hasStream(stream)) throw new HttpError(404, { error: `no stream "${stream}"` });
  if (request.method === 'GET' && !questionId)
    return [200, { questions: streams.listQuestions(stream) }];
  requireControl(request, access, 'questions');
  if (request.method === 'POST' && !questionId) {
    const body = parseQuestionRequestSchema.safeParse(await readJsonBody(request));
    if (!body.success) throw new HttpError(400, { error: z.prettifyError(body.error) });
    try {
      return [201, streams.addQuestion(stream, body.data.question, body.data.values)];
    } catch (error) {
      if (!(error instanceof QuestionParseError))
        throw new HttpError(422, { error: (error as Error).message });
      throw new HttpError(422, { error: error.message, nearest: error.nearestTemplates() });
    }
  }
  if (request.method === 'DELETE' && questionId) {
    if (!streams.removeQuestion(stream, questionId))
      throw new HttpError(404, { error: `no question "${questionId}" on stream "${stream}"` });
    return [200, { removed: questionId }];
  }
  throw new HttpError(405, { error: `${request.method} is not allowed here` });
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

/**
 * The built dashboard (client/dist), if it has been built; unknown paths get index.html. Files
 * are streamed (ffmpeg.wasm's core is 32 MB), and the hashed assets cached for good.
 */
async function serveDashboard(
  pathname: string,
  response: ServerResponse,
  root: string,
  headOnly: boolean,
): Promise<boolean> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname === '/' ? '/index.html' : pathname);
  } catch {
    throw new HttpError(400, { error: 'malformed percent-encoding in the path' });
  }
  const file = path.resolve(root, `.${decoded}`);
  if (!file.startsWith(root + path.sep)) return false;
  for (const candidate of [file, path.join(root, 'index.html')]) {
    const info = await stat(candidate).catch(() => undefined);
    if (!info?.isFile()) continue;
    const hashed = candidate.startsWith(path.join(root, 'assets') + path.sep);
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[path.extname(candidate)] ?? 'application/octet-stream',
      'content-length': info.size,
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (headOnly) response.end();
    else await pipeline(createReadStream(candidate), response);
    return true;
  }
  return false;
}

/**
 * Ends a request that failed. Once the head has gone out (a file half streamed) no status can
 * follow: the connection is cut, and a client that hung up mid-file is not worth a log line.
 */
export function failResponse(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    const code = (error as { code?: unknown } | null)?.code;
    if (code !== 'ERR_STREAM_PREMATURE_CLOSE' && code !== 'ECONNRESET' && code !== 'EPIPE')
      console.error('http: failed after the response began', error);
    response.destroy();
    return;
  }
  if (error instanceof HttpError) return sendJson(response, error.status, error.body);
  console.error('http: unexpected error', error);
  sendJson(response, 500, { error: 'internal error' });
}

/** Health for probes: its status for anyone, the reasons (which name streams) for readers. */
function publicHealth(health: HealthResponse | undefined, reader: boolean): HealthResponse {
  if (!health) return { status: 'ok', reasons: [], uptimeSeconds: process.uptime() };
  return reader
    ? health
    : { status: health.status, reasons: [], uptimeSeconds: health.uptimeSeconds };
}

const DASHBOARD = fileURLToPath(new URL('../../client/dist', import.meta.url));

/** Routes that show what a stream sees, hears or says: they need read access. */
const READ_ROUTES = [
  FRAME_ROUTE,
  HISTORY_ROUTE,
  EXPORT_ROUTE,
  QUESTIONS_ROUTE,
  RULES_ROUTE,
  /^\/api\/streams$/,
  /^\/metrics$/,
];

export function createHttpServer(streams?: {
  control: StreamControl;
  access: AccessPolicy;
  metrics?: MonitorMetrics;
}): Server {
  return createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const pathname = url.pathname;
    const route = `${request.method} ${pathname}`;
    const respond = async (): Promise<void> => {
      const access = streams?.access;
      if (access && !access.hostAllowed(request.headers.host))
        throw new HttpError(421, {
          error: `host "${request.headers.host ?? ''}" is not one this monitor answers to (TUTTI_ALLOWED_HOSTS adds names)`,
        });
      const reader = access?.canRead(AccessPolicy.tokenOf(request)) ?? true;
      if (!reader && READ_ROUTES.some((r) => r.test(pathname)))
        throw new HttpError(401, {
          error: 'reading needs the access token (Authorization: Bearer …)',
        });
      const frameRoute = FRAME_ROUTE.exec(pathname);
      if (frameRoute && streams && request.method === 'GET') {
        const frame = streams.control.latestFrame(frameRoute[1]!);
        if (!frame)
          throw new HttpError(404, { error: `no picture from stream "${frameRoute[1]}" yet` });
        const jpeg = await frameToJpeg(frame);
        response.writeHead(200, { 'content-type': 'image/jpeg', 'cache-control': 'no-store' });
        return void response.end(jpeg);
      }
      const history = HISTORY_ROUTE.exec(pathname);
      if (history && streams && request.method === 'GET') {
        if (!streams.control.hasStream(history[1]!))
          throw new HttpError(404, { error: `no stream "${history[1]}"` });
        const query = historyQuerySchema.safeParse(Object.fromEntries(url.searchParams));
        if (!query.success) throw new HttpError(400, { error: z.prettifyError(query.error) });
        const body = await streams.control
          .history({ stream: history[1]!, ...query.data })
          .catch((error: unknown) => {
            if (error instanceof HistoryBusyError)
              throw new HttpError(503, { error: `busy: ${error.message}; try again shortly` });
            if (error instanceof HistoryQueryError)
              throw new HttpError(400, { error: error.message });
            throw error;
          });
        response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        return void response.end(body);
      }
      const exported = EXPORT_ROUTE.exec(pathname);
      if (exported && streams && request.method === 'GET')
        return sendExport(response, streams.control, exported[1]!, url.searchParams);
      // A stream's standing questions and rules: listed, added and removed alike.
      for (const [pattern, handle] of [
        [QUESTIONS_ROUTE, handleQuestions],
        [RULES_ROUTE, handleRules],
      ] as const) {
        const match = pattern.exec(pathname);
        if (!match || !streams) continue;
        const [status, body] = await handle(request, streams.control, streams.access, [
          match[1]!,
          match[2],
        ]);
        return sendJson(response, status, body);
      }
      if (route === 'GET /metrics' && streams?.metrics) {
        const body = await streams.metrics.exposition();
        response.writeHead(200, { 'content-type': streams.metrics.contentType });
        return void response.end(body);
      }
      if (route === 'GET /api/streams' && streams)
        return sendJson(response, 200, { streams: streams.control.listStreams() });
      if (
        (request.method === 'GET' || request.method === 'HEAD') &&
        !pathname.startsWith('/api/') &&
        (await serveDashboard(pathname, response, DASHBOARD, request.method === 'HEAD'))
      )
        return;
      switch (route) {
        case 'GET /api/health':
          return sendJson(
            response,
            200,
            healthResponseSchema.parse(publicHealth(streams?.control.health(), reader)),
          );
        case 'GET /api/question-space':
          return sendJson(response, 200, QUESTION_SPACE);
        case 'POST /api/questions/parse':
          return sendJson(response, 200, handleParse(await readJsonBody(request)));
        default:
          throw new HttpError(404, { error: `no route ${route}` });
      }
    };
    respond().catch((error: unknown) => failResponse(response, error));
  });
}
