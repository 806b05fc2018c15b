import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TRUST_DOMAIN, assertHostName, assertTrustDomain } from '../src/index.js';
import { HOST_NAME_PATTERN } from '../src/names.js';

describe('host names and trust domains', () => {
  it('accepts DNS-label shaped lowercase names up to 63 characters', () => {
    for (const ok of ['a', '7', 'web-1', 'a1-b2-c3', 'x'.repeat(63), `a${'-'.repeat(61)}b`]) {
      assert.doesNotThrow(() => assertHostName(ok), ok);
      assert.match(ok, HOST_NAME_PATTERN);
    }
  });

  it('refuses everything else with SWARM_ERR_HOST_NAME_INVALID', () => {
    for (const bad of [
      '',
      'Web_1',
      'WEB',
      'web_1',
      '-web',
      'web-',
      'web.1',
      'x'.repeat(64),
      'a'.repeat(70),
      'wéb',
      'web 1',
      '../ca',
    ]) {
      assert.throws(
        () => assertHostName(bad),
        { code: 'SWARM_ERR_HOST_NAME_INVALID', exitCode: 2 },
        JSON.stringify(bad),
      );
    }
  });

  it('reserves master', () => {
    assert.throws(() => assertHostName('master'), { code: 'SWARM_ERR_HOST_NAME_RESERVED', exitCode: 2 });
    assert.doesNotThrow(() => assertHostName('master-1'));
  });

  it('shortens a very long name in the message', () => {
    assert.throws(
      () => assertHostName('a'.repeat(500)),
      (err: Error) => err.message.length < 200,
    );
  });

  it('accepts SPIFFE trust domains and refuses the rest', () => {
    for (const ok of [DEFAULT_TRUST_DOMAIN, 'prod.example.com', 'a_b-c.d'])
      assert.doesNotThrow(() => assertTrustDomain(ok));
    for (const bad of ['', 'Prod', 'spiffe://x', 'a/b', 'a b', 'x'.repeat(256)]) {
      assert.throws(() => assertTrustDomain(bad), { code: 'SWARM_ERR_USAGE_INVALID' }, bad);
    }
  });
});
