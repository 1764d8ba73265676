/** `GET /api/health`: what fails, if anything, while answering goes on. */
import type { HealthResponse } from '../../shared/protocol/health.js';
import type { InferenceHealth } from '../encoders/inference-client.js';
import type { LiveStream } from '../pipeline/live-stream.js';
import type { LogHealth } from '../storage/event-log.js';

export function monitorHealth(
  eventLog: LogHealth,
  inference: InferenceHealth | undefined,
  streams: Iterable<LiveStream>,
): HealthResponse {
  const reasons = [
    ...(eventLog.failing
      ? [`event log writes failing: ${eventLog.failing} (${eventLog.pending} events waiting)`]
      : []),
    ...(inference?.state === 'restarting'
      ? [`inference worker restarting: ${inference.reason}`]
      : []),
    ...[...streams]
      .filter((live) => live.state === 'retrying')
      .map((live) => `stream ${live.config.id}: ${live.detail}`),
  ];
  return {
    status: reasons.length > 0 ? 'degraded' : 'ok',
    reasons,
    uptimeSeconds: process.uptime(),
    eventLog,
    ...(inference ? { inference } : {}),
  };
}
