/** `GET /api/streams/:id/export`: a stream's answers over a time range as a file for a studio tool. */
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { EXPORT_FORMATS, EXPORT_WRITERS } from '../exports/export-formats.js';
import { ExportTooLargeError, streamExport } from '../exports/stream-export.js';
import { HistoryBusyError } from '../storage/history-reader.js';
import { HttpError } from './http-json.js';
import type { StreamControl } from './stream-control.js';

const exportQuerySchema = z.object({
  format: z.enum(EXPORT_FORMATS).default('json'),
  /** Wall-clock ms since the epoch; default the last hour. */
  from: z.coerce.number().optional(),
  to: z.coerce.number().optional(),
});

/** `GET /api/streams/:id/export?format=…&from=…&to=…`: a file for a studio tool. */
export async function sendExport(
  response: ServerResponse,
  control: StreamControl,
  stream: string,
  params: URLSearchParams,
): Promise<void> {
  if (!control.hasStream(stream)) throw new HttpError(404, { error: `no stream "${stream}"` });
  const query = exportQuerySchema.safeParse(Object.fromEntries(params));
  if (!query.success) throw new HttpError(400, { error: z.prettifyError(query.error) });
  const to = query.data.to ?? Date.now();
  const from = query.data.from ?? to - 3_600_000;
  if (!(from < to)) throw new HttpError(400, { error: '`from` must be before `to`' });
  const data = await streamExport(control.history, stream, { from, to }).catch((error: unknown) => {
    if (error instanceof ExportTooLargeError) throw new HttpError(413, { error: error.message });
    if (error instanceof HistoryBusyError)
      throw new HttpError(503, { error: `busy: ${error.message}; try again shortly` });
    throw error;
  });
  const writer = EXPORT_WRITERS[query.data.format];
  const name = `tutti-${stream}-${new Date(from).toISOString().replace(/[:.]/g, '-')}.${writer.extension}`;
  response.writeHead(200, {
    'content-type': writer.contentType,
    'content-disposition': `attachment; filename="${name}"`,
  });
  response.end(writer.write(data));
}
