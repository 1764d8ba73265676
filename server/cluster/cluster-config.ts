/**
 * How a cluster role reaches NATS: the servers, and the credentials and TLS a bus on a network
 * needs (no open bus). Read from the environment, checked with the reasons a user can act on.
 */
import { z } from 'zod';

export const clusterConfigSchema = z.object({
  /** nats://host:port, several for a NATS cluster (TUTTI_NATS_URL, comma-separated). */
  servers: z.array(z.string().regex(/^(nats|tls):\/\/[^\s,]+$/, 'a nats:// or tls:// URL')).min(1),
  /** A .creds file (NATS decentralised auth: JWT + NKey seed). */
  credsFile: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
  pass: z.string().min(1).optional(),
  token: z.string().min(1).optional(),
  /** TLS: the CA that signed the servers' certificates, and a client certificate if required. */
  tls: z
    .object({
      caFile: z.string().min(1).optional(),
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
    })
    .optional(),
});
export type ClusterConfig = z.infer<typeof clusterConfigSchema>;

export function clusterConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ClusterConfig {
  const tls = {
    ...(env.TUTTI_NATS_CA && { caFile: env.TUTTI_NATS_CA }),
    ...(env.TUTTI_NATS_CERT && { certFile: env.TUTTI_NATS_CERT }),
    ...(env.TUTTI_NATS_KEY && { keyFile: env.TUTTI_NATS_KEY }),
  };
  const parsed = clusterConfigSchema.safeParse({
    servers: (env.TUTTI_NATS_URL ?? 'nats://127.0.0.1:4222').split(',').map((s) => s.trim()),
    ...(env.TUTTI_NATS_CREDS && { credsFile: env.TUTTI_NATS_CREDS }),
    ...(env.TUTTI_NATS_USER && { user: env.TUTTI_NATS_USER }),
    ...(env.TUTTI_NATS_PASSWORD && { pass: env.TUTTI_NATS_PASSWORD }),
    ...(env.TUTTI_NATS_TOKEN && { token: env.TUTTI_NATS_TOKEN }),
    ...(Object.keys(tls).length > 0 && { tls }),
  });
  if (!parsed.success)
    throw new Error(`cluster settings (TUTTI_NATS_*): ${z.prettifyError(parsed.error)}`);
  if ((parsed.data.user === undefined) !== (parsed.data.pass === undefined))
    throw new Error('cluster settings: TUTTI_NATS_USER and TUTTI_NATS_PASSWORD go together');
  if ((parsed.data.tls?.certFile === undefined) !== (parsed.data.tls?.keyFile === undefined))
    throw new Error('cluster settings: TUTTI_NATS_CERT and TUTTI_NATS_KEY go together');
  return parsed.data;
}
