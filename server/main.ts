/**
 * `npm start`: the Tutti monitor. Listens on TUTTI_PORT (default 8080) on TUTTI_HOST
 * (default 127.0.0.1; the dashboard's controls are not meant for an open network).
 */
import { createHttpServer } from './hub/http-server.js';

const port = Number(process.env.TUTTI_PORT ?? 8080);
const host = process.env.TUTTI_HOST ?? '127.0.0.1';

const server = createHttpServer();
server.on('error', (error) => {
  console.error(`tutti: cannot listen on ${host}:${port}: ${error.message}`);
  process.exit(1);
});
server.listen(port, host, () => {
  const address = server.address();
  const where =
    typeof address === 'object' && address ? `${address.address}:${address.port}` : String(address);
  console.log(`tutti: listening on http://${where} (question space at /api/question-space)`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`tutti: ${signal}, shutting down`);
    server.close(() => process.exit(0));
  });
}
