// @vitest-environment node
/** The dashboard's token handling: a URL token wins and leaves the URL; the subprotocol form. */
import { describe, expect, it } from 'vitest';
import { takeToken, tokenProtocols } from '../../client/src/lib/access-token.js';
import { AccessPolicy, hostPart, tokenMatches } from '../../server/hub/access.js';

describe('access token', () => {
  it('takes a token from the URL over the stored one, and gives the URL without it', () => {
    expect(takeToken('http://h:8080/?token=new&x=1#top', 'old')).toEqual({
      token: 'new',
      cleanedUrl: '/?x=1#top',
    });
    expect(takeToken('http://h:8080/', 'old')).toEqual({ token: 'old' });
    expect(takeToken('http://h:8080/', null)).toEqual({ token: '' });
  });

  it('carries any token as a subprotocol the monitor reads back unchanged', () => {
    for (const token of ['abc123', 'ä ö/+=?', '']) {
      const protocols = tokenProtocols(token);
      expect(protocols[0]).toBe('tutti');
      expect(protocols.every((p) => /^[\w.-]+$/.test(p))).toBe(true); // valid header tokens
      const request = { headers: { 'sec-websocket-protocol': protocols.join(', ') } };
      expect(AccessPolicy.tokenOf(request as never)).toBe(token || undefined);
    }
  });

  it('compares tokens whole, and checks hosts and origins against its own names', () => {
    expect(tokenMatches('secret', 'secret')).toBe(true);
    for (const guess of ['secre', 'secret ', '', undefined])
      expect(tokenMatches(guess, 'secret')).toBe(false);
    expect(hostPart('[::1]:8080')).toBe('::1');
    expect(hostPart('LocalHost:80')).toBe('localhost');
    const access = new AccessPolicy({
      controlToken: 'c',
      readToken: 'r',
      allowedHosts: ['stage.example'],
    });
    expect(
      ['localhost:8080', '127.0.0.1', 'stage.example:443'].map((h) => access.hostAllowed(h)),
    ).toEqual([true, true, true]);
    expect(access.hostAllowed('evil.example')).toBe(false);
    expect(access.hostAllowed(undefined)).toBe(false);
    expect(access.originAllowed(undefined, 'x')).toBe(true); // not a browser
    expect(access.originAllowed('http://127.0.0.1:8080', '127.0.0.1:8080')).toBe(true);
    expect(access.originAllowed('http://evil.example', '127.0.0.1:8080')).toBe(false);
    expect(access.originAllowed('null', '127.0.0.1:8080')).toBe(false);
    expect([access.canRead('r'), access.canRead('c'), access.canControl('r')]).toEqual([
      true,
      true,
      false,
    ]);
  });
});
