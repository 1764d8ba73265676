/** `GET /api/health`: whether the monitor is whole, and if not, why. */
import { z } from 'zod';

export const healthResponseSchema = z.object({
  /** 'degraded': it still answers, but something it should do fails (see `reasons`). */
  status: z.enum(['ok', 'degraded']),
  reasons: z.array(z.string()),
  uptimeSeconds: z.number(),
  eventLog: z
    .object({ failing: z.string().optional(), pending: z.number(), dropped: z.number() })
    .optional(),
  inference: z
    .object({
      state: z.enum(['ready', 'restarting']),
      restarts: z.number(),
      reason: z.string().optional(),
    })
    .optional(),
});
export type HealthResponse = z.infer<typeof healthResponseSchema>;
