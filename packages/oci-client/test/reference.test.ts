import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSwarmError } from '@swarm/errors';
import { formatReference, isDigest, parseReference, type ImageReference } from '../src/reference.js';

const HEX = '0123456789abcdef'.repeat(4); // 64 lower-case hex digits
const DIGEST = `sha256:${HEX}`;

/** `parseReference(text)` throws SWARM_ERR_USAGE_INVALID whose message quotes the input and names `part`. */
function assertRejected(text: string, part: string, what?: string): void {
  assert.throws(
    () => (what === undefined ? parseReference(text) : parseReference(text, what)),
    (err: unknown) => {
      assert.ok(isSwarmError(err), `${JSON.stringify(text)}: not a SwarmError: ${String(err)}`);
      assert.equal(err.code, 'SWARM_ERR_USAGE_INVALID', JSON.stringify(text));
      assert.ok(err.message.includes(JSON.stringify(text)), `message does not quote the input: ${err.message}`);
      assert.ok(
        err.message.includes(part),
        `message ${JSON.stringify(err.message)} does not name ${JSON.stringify(part)}`,
      );
      return true;
    },
    JSON.stringify(text),
  );
}

describe('parseReference', () => {
  it('parses a host, a repository and a tag', () => {
    assert.deepEqual(parseReference('registry.example.com/team/web:1.2.3'), {
      registry: 'registry.example.com',
      repository: 'team/web',
      tag: '1.2.3',
      digest: null,
    });
  });

  it('leaves tag and digest null when neither is given', () => {
    assert.deepEqual(parseReference('localhost/web'), {
      registry: 'localhost',
      repository: 'web',
      tag: null,
      digest: null,
    });
  });

  it('keeps a port with the host and does not take it for a tag', () => {
    assert.deepEqual(parseReference('reg.example:5000/team/web'), {
      registry: 'reg.example:5000',
      repository: 'team/web',
      tag: null,
      digest: null,
    });
    assert.deepEqual(parseReference('reg.example:5000/team/web:v2'), {
      registry: 'reg.example:5000',
      repository: 'team/web',
      tag: 'v2',
      digest: null,
    });
  });

  it('accepts IPv6 addresses in brackets, with and without a port', () => {
    assert.deepEqual(parseReference('[::1]:5000/team/web:1.0'), {
      registry: '[::1]:5000',
      repository: 'team/web',
      tag: '1.0',
      digest: null,
    });
    assert.deepEqual(parseReference('[fe80::1:2]/web'), {
      registry: '[fe80::1:2]',
      repository: 'web',
      tag: null,
      digest: null,
    });
    assert.equal(parseReference('[::ffff:192.0.2.1]:443/web').registry, '[::ffff:192.0.2.1]:443');
  });

  it('keeps the host as written (case included)', () => {
    assert.equal(parseReference('Reg.Example.COM/web').registry, 'Reg.Example.COM');
  });

  it('accepts nested repository paths and every separator of the grammar', () => {
    const ref = parseReference('reg.example/a/b0/c-d/e--f/g_h/i__j/k.l/m:latest');
    assert.equal(ref.registry, 'reg.example');
    assert.equal(ref.repository, 'a/b0/c-d/e--f/g_h/i__j/k.l/m');
    assert.equal(ref.tag, 'latest');
  });

  it('accepts tags of upper case, digits, _, . and - up to 128 characters', () => {
    assert.equal(parseReference('reg/web:V1.0_rc-1').tag, 'V1.0_rc-1');
    assert.equal(parseReference('reg/web:_x').tag, '_x');
    const longest = 'a'.repeat(128);
    assert.equal(parseReference(`reg/web:${longest}`).tag, longest);
  });

  it('parses a digest', () => {
    assert.deepEqual(parseReference(`reg.example/team/web@${DIGEST}`), {
      registry: 'reg.example',
      repository: 'team/web',
      tag: null,
      digest: DIGEST,
    });
  });

  it('parses a tag and a digest together', () => {
    assert.deepEqual(parseReference(`reg.example:5000/team/web:1.0@${DIGEST}`), {
      registry: 'reg.example:5000',
      repository: 'team/web',
      tag: '1.0',
      digest: DIGEST,
    });
  });

  it('accepts a repository of exactly 255 characters', () => {
    const repo = `${'a'.repeat(127)}/${'b'.repeat(127)}`;
    assert.equal(repo.length, 255);
    assert.equal(parseReference(`reg/${repo}`).repository, repo);
  });

  describe('rejects, with SWARM_ERR_USAGE_INVALID naming the part at fault', () => {
    it('a reference without a slash (no registry)', () => {
      for (const text of ['web', 'web:latest', 'reg.example:5000', `web@${DIGEST}`]) {
        assertRejected(text, 'no registry host');
      }
    });

    it('a bad host', () => {
      for (const host of [
        'reg_x.example',
        '-reg.example',
        'reg-.example',
        'reg..example',
        'reg:',
        'reg:123456',
        'reg:port',
        '[::g]',
        '[]',
        '::1',
        '',
      ]) {
        assertRejected(`${host}/team/web`, `${JSON.stringify(host)} is not a host name or address`);
      }
    });

    it('a port outside 1-65535', () => {
      for (const port of ['0', '65536', '99999']) assertRejected(`reg:${port}/team/web`, `the port ${port} is not 1-65535`);
    });

    it('an empty repository', () => {
      for (const text of ['reg.example/', 'reg.example/:tag', `reg.example/@${DIGEST}`]) {
        assertRejected(text, 'no repository');
      }
    });

    it('an upper-case component', () => {
      assertRejected('reg.example/Team/web', 'the repository component "Team"');
      assertRejected('reg.example/team/weB:1', 'the repository component "weB"');
    });

    it('a component with a leading, trailing or doubled separator', () => {
      assertRejected('reg.example/-team/web', 'the repository component "-team"');
      assertRejected('reg.example/team/web-', 'the repository component "web-"');
      assertRejected('reg.example/.team', 'the repository component ".team"');
      assertRejected('reg.example/a___b', 'the repository component "a___b"');
      assertRejected('reg.example/a..b', 'the repository component "a..b"');
      assertRejected('reg.example/team//web', 'the repository component ""');
      assertRejected('reg.example/team/', 'the repository component ""');
    });

    it('a bad tag', () => {
      assertRejected('reg.example/web:.hidden', 'the tag ".hidden"');
      assertRejected('reg.example/web:-x', 'the tag "-x"');
      assertRejected('reg.example/web:', 'the tag ""');
      assertRejected('reg.example/web:a+b', 'the tag "a+b"');
      const tooLong = 'a'.repeat(129);
      assertRejected(`reg.example/web:${tooLong}`, `the tag ${JSON.stringify(tooLong)}`);
    });

    it('a digest that is not sha256: and 64 lower-case hex digits', () => {
      for (const digest of [
        `sha256:${HEX.toUpperCase()}`,
        `sha256:${HEX.slice(1)}`,
        `sha256:${HEX}0`,
        `sha256:${HEX.slice(1)}g`,
        HEX,
        `SHA256:${HEX}`,
        '',
      ]) {
        assertRejected(`reg.example/web@${digest}`, `the digest ${JSON.stringify(digest)}`);
      }
    });

    it('a sha512 digest', () => {
      const sha512 = `sha512:${HEX}${HEX}`;
      assertRejected(`reg.example/web:1@${sha512}`, `the digest ${JSON.stringify(sha512)}`);
    });

    it('a repository longer than 255 characters', () => {
      assertRejected(`reg.example/${'a'.repeat(256)}`, 'longer than 255 characters');
      assertRejected(`reg.example/${'a'.repeat(127)}/${'b'.repeat(128)}:1`, 'longer than 255 characters');
    });

    it('with the caller naming the reference', () => {
      assertRejected('web', '--image "web" is not HOST[:PORT]/REPOSITORY', '--image');
      assertRejected('web', 'the reference "web" is not HOST[:PORT]/REPOSITORY');
    });
  });
});

describe('formatReference', () => {
  it('writes host, repository, tag and digest', () => {
    const ref: ImageReference = { registry: 'reg.example:5000', repository: 'team/web', tag: '1.0', digest: DIGEST };
    assert.equal(formatReference(ref), `reg.example:5000/team/web:1.0@${DIGEST}`);
    assert.equal(formatReference({ ...ref, digest: null }), 'reg.example:5000/team/web:1.0');
    assert.equal(formatReference({ ...ref, tag: null }), `reg.example:5000/team/web@${DIGEST}`);
    assert.equal(formatReference({ ...ref, tag: null, digest: null }), 'reg.example:5000/team/web');
  });

  it('round-trips with parseReference', () => {
    for (const text of [
      'localhost/web',
      'reg.example:5000/team/web',
      'reg.example/a/b/c:latest',
      '[::1]:5000/team/web:1.0',
      `reg.example/team/web@${DIGEST}`,
      `reg.example:443/team/web:v1.2_rc-3@${DIGEST}`,
    ]) {
      const ref = parseReference(text);
      assert.equal(formatReference(ref), text);
      assert.deepEqual(parseReference(formatReference(ref)), ref);
    }
  });
});

describe('isDigest', () => {
  it('accepts sha256: and 64 lower-case hex digits', () => {
    assert.equal(isDigest(DIGEST), true);
    assert.equal(isDigest(`sha256:${'0'.repeat(64)}`), true);
  });

  it('refuses anything else', () => {
    for (const bad of [
      '',
      HEX,
      `sha256:${HEX.toUpperCase()}`,
      `sha256:${HEX.slice(1)}`,
      `sha256:${HEX}0`,
      `sha512:${HEX}${HEX}`,
      `sha256:${HEX}\n`,
      ` ${DIGEST}`,
      `reg/web@${DIGEST}`,
    ]) {
      assert.equal(isDigest(bad), false, JSON.stringify(bad));
    }
  });
});
