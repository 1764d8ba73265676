/**
 * No open bus on a network (issue #13): a real nats-server with TLS (a CA made here with openssl)
 * and a user and password, reached with the settings a role reads from its environment
 * (TUTTI_NATS_CA, TUTTI_NATS_USER, TUTTI_NATS_PASSWORD). With them a role connects and uses
 * JetStream; without the CA, or with a wrong password, it is refused with the reason.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterConfigFromEnv } from '../server/cluster/cluster-config.js';
import { connectToBus } from '../server/cluster/nats-connection.js';
import { StandingKv } from '../server/cluster/standing-kv.js';
import { NatsServer } from './support/nats-server.js';

/** A CA and a certificate it signed for 127.0.0.1. */
function makeCertificates(dir: string) {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=Tutti test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
  );
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    file('san.ext'),
    '-out',
    file('server.pem'),
  );
  return { ca: file('ca.pem'), cert: file('server.pem'), key: file('server.key') };
}

describe('a bus with TLS and credentials', () => {
  let server: NatsServer;
  let ca = '';

  beforeAll(async () => {
    const certificates = makeCertificates(mkdtempSync(path.join(tmpdir(), 'tutti-tls-')));
    ca = certificates.ca;
    server = await NatsServer.start([
      '--tlscert',
      certificates.cert,
      '--tlskey',
      certificates.key,
      '--user',
      'tutti',
      '--pass',
      'stage-door',
    ]);
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  const connectWith = (env: Record<string, string>) =>
    connectToBus(
      clusterConfigFromEnv({ TUTTI_NATS_URL: server.url, ...env }),
      'test-role',
      () => {},
    );

  it('lets in a role that trusts the CA and knows the password, and it uses JetStream', async () => {
    const connection = await connectWith({
      TUTTI_NATS_CA: ca,
      TUTTI_NATS_USER: 'tutti',
      TUTTI_NATS_PASSWORD: 'stage-door',
    });
    const standing = await StandingKv.open(connection, () => {});
    await standing.save({ type: 'questions', stream: 'main-stage', questions: [] });
    expect(standing.streams()).toEqual(['main-stage']);
    standing.close();
    await connection.close();
  });

  it('refuses a wrong password and a role that does not trust the server, saying why', async () => {
    await expect(
      connectWith({ TUTTI_NATS_CA: ca, TUTTI_NATS_USER: 'tutti', TUTTI_NATS_PASSWORD: 'guess' }),
    ).rejects.toThrow(
      /^cannot reach NATS at nats:\/\/127\.0\.0\.1:\d+ \(TUTTI_NATS_URL\): .*authorization/i,
    );
    await expect(
      connectWith({ TUTTI_NATS_USER: 'tutti', TUTTI_NATS_PASSWORD: 'stage-door' }),
    ).rejects.toThrow(/^cannot reach NATS at .*(certificate|self.signed)/i);
  });
});
