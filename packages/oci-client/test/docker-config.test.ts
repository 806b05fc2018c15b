import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSwarmError } from '@swarm/errors';
import { parseDockerConfig, readDockerConfig, registryKey } from '../src/docker-config.js';

const SOURCE = '/etc/swarm/registry-auth.json';
const PASSWORD = 'S3cr3t-Pa55:w0rd';
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const config = (auths: unknown) => JSON.stringify({ auths });

/** Asserts `fn` throws SWARM_ERR_CONFIG_INVALID naming `file` and every one of `parts`, and never a secret. */
function assertInvalid(fn: () => unknown, file: string, parts: string[], secrets: string[] = [PASSWORD]): void {
  assert.throws(fn, (err: unknown) => checkInvalid(err, file, parts, secrets));
}

async function assertInvalidAsync(
  fn: () => Promise<unknown>,
  file: string,
  parts: string[],
  secrets: string[] = [PASSWORD],
): Promise<void> {
  await assert.rejects(fn, (err: unknown) => checkInvalid(err, file, parts, secrets));
}

function checkInvalid(err: unknown, file: string, parts: string[], secrets: string[]): true {
  assert.ok(isSwarmError(err), `not a SwarmError: ${String(err)}`);
  assert.equal(err.code, 'SWARM_ERR_CONFIG_INVALID');
  assert.ok(err.message.includes(file), `message ${JSON.stringify(err.message)} does not name ${file}`);
  assert.equal(err.details.file, file);
  for (const part of parts) {
    assert.ok(
      err.message.includes(part),
      `message ${JSON.stringify(err.message)} does not name ${JSON.stringify(part)}`,
    );
  }
  for (const secret of secrets) {
    assert.ok(!err.message.includes(secret), `message ${JSON.stringify(err.message)} reveals a secret`);
    assert.ok(!JSON.stringify(err.details).includes(secret), 'details reveal a secret');
  }
  return true;
}

describe('parseDockerConfig', () => {
  it('decodes `auth` as base64 of user:password, splitting at the first colon', () => {
    const creds = parseDockerConfig(config({ 'reg.example': { auth: b64(`alice:${PASSWORD}`) } }), SOURCE);
    assert.equal(creds.size, 1);
    assert.deepEqual(creds.get('reg.example'), { username: 'alice', password: PASSWORD });
  });

  it('accepts an empty password in `auth`', () => {
    const creds = parseDockerConfig(config({ 'reg.example': { auth: b64('alice:') } }), SOURCE);
    assert.deepEqual(creds.get('reg.example'), { username: 'alice', password: '' });
  });

  it('takes username and password fields', () => {
    const creds = parseDockerConfig(config({ 'reg.example:5000': { username: 'bob', password: PASSWORD } }), SOURCE);
    assert.deepEqual(creds.get('reg.example:5000'), { username: 'bob', password: PASSWORD });
  });

  it('prefers `auth` over username and password fields', () => {
    const creds = parseDockerConfig(
      config({ 'reg.example': { auth: b64('alice:one'), username: 'bob', password: 'two' } }),
      SOURCE,
    );
    assert.deepEqual(creds.get('reg.example'), { username: 'alice', password: 'one' });
  });

  it('maps URL keys to HOST[:PORT] and lower-cases keys', () => {
    const creds = parseDockerConfig(
      config({
        'https://reg.example:5000/v1/': { auth: b64('a:1') },
        'http://Plain.Example/': { auth: b64('b:2') },
        'REG.Upper.EXAMPLE:443': { username: 'c', password: '3' },
        '[::1]:5000': { auth: b64('d:4') },
      }),
      SOURCE,
    );
    assert.deepEqual([...creds.keys()].sort(), [
      '[::1]:5000',
      'plain.example',
      'reg.example:5000',
      'reg.upper.example:443',
    ]);
    assert.deepEqual(creds.get('reg.example:5000'), { username: 'a', password: '1' });
    assert.deepEqual(creds.get('plain.example'), { username: 'b', password: '2' });
    assert.deepEqual(creds.get('reg.upper.example:443'), { username: 'c', password: '3' });
    assert.deepEqual(creds.get('[::1]:5000'), { username: 'd', password: '4' });
  });

  it('leaves out entries that are not logins (identitytoken only, empty, no username)', () => {
    const creds = parseDockerConfig(
      JSON.stringify({
        credsStore: 'desktop',
        auths: {
          'token.example': { identitytoken: 'eyJhbGciOi' },
          'empty.example': {},
          'blank-auth.example': { auth: '' },
          'no-user.example': { username: '', password: PASSWORD },
          'no-password.example': { username: 'alice' },
          'reg.example': { auth: b64('alice:pw') },
        },
      }),
      SOURCE,
    );
    assert.deepEqual([...creds.keys()], ['reg.example']);
  });

  it('returns no logins for empty or missing auths', () => {
    assert.equal(parseDockerConfig('{"auths":{}}', SOURCE).size, 0);
    assert.equal(parseDockerConfig('{}', SOURCE).size, 0);
    assert.equal(parseDockerConfig('{"credsStore":"osxkeychain"}', SOURCE).size, 0);
  });

  describe('rejects with SWARM_ERR_CONFIG_INVALID naming the file and the entry', () => {
    it('text that is not JSON', () => {
      assertInvalid(() => parseDockerConfig('', SOURCE), SOURCE, ['not JSON']);
      assertInvalid(
        () => parseDockerConfig(`{"auths":{"reg.example":{"username":"u","password":"${PASSWORD}"}}`, SOURCE),
        SOURCE,
        ['not JSON'],
      );
    });

    it(
      'text that is not JSON, without quoting a secret from it',
      () => {
        // A hand-edited file with the password left unquoted: V8 reports `Unexpected token 'h',
        // ..."password":hunter2}}}" is not valid JSON`, and the error repeats that message.
        const secret = 'hunter2';
        assertInvalid(
          () => parseDockerConfig(`{"auths":{"reg.example":{"username":"u","password":${secret}}}}`, SOURCE),
          SOURCE,
          ['not JSON'],
          [secret],
        );
      },
    );

    it('JSON that is not an object', () => {
      for (const text of ['[]', '[{"auths":{}}]', 'null', '"auths"', '42']) {
        assertInvalid(() => parseDockerConfig(text, SOURCE), SOURCE, ['not a JSON object']);
      }
    });

    it('"auths" that is not an object', () => {
      for (const auths of [[], ['reg.example'], 'reg.example', 7, true]) {
        assertInvalid(() => parseDockerConfig(config(auths), SOURCE), SOURCE, ['"auths" is not an object']);
      }
    });

    it('an entry that is not an object', () => {
      for (const entry of [b64(`alice:${PASSWORD}`), null, [], 1]) {
        assertInvalid(
          () =>
            parseDockerConfig(
              config({ 'ok.example': { username: 'u', password: PASSWORD }, 'bad.example': entry }),
              SOURCE,
            ),
          SOURCE,
          ['auths["bad.example"] is not an object'],
          [PASSWORD, b64(`alice:${PASSWORD}`)],
        );
      }
    });

    it('a malformed auth: not base64', () => {
      for (const auth of [`alice:${PASSWORD}`, `${b64(`alice:${PASSWORD}`)}!`, `${b64('alice:x')}\n`, '====']) {
        assertInvalid(
          () => parseDockerConfig(config({ 'reg.example:5000': { auth } }), SOURCE),
          SOURCE,
          ['auths["reg.example:5000"].auth is not base64 of user:password'],
          [PASSWORD, auth],
        );
      }
    });

    it('a malformed auth: no colon', () => {
      const auth = b64(`alice${PASSWORD.replace(':', '')}`);
      assertInvalid(
        () => parseDockerConfig(config({ 'reg.example': { auth } }), SOURCE),
        SOURCE,
        ['auths["reg.example"].auth is not base64 of user:password'],
        [PASSWORD.replace(':', ''), auth],
      );
    });

    it('a malformed auth: the colon first (no user name)', () => {
      const auth = b64(`:${PASSWORD}`);
      assertInvalid(
        () => parseDockerConfig(config({ 'reg.example': { auth } }), SOURCE),
        SOURCE,
        ['auths["reg.example"].auth is not base64 of user:password'],
        [PASSWORD, auth],
      );
    });

    it('names the entry as written in the file, not as the registry key', () => {
      assertInvalid(
        () => parseDockerConfig(config({ 'https://Reg.Example/v1/': { auth: b64('nocolon') } }), SOURCE),
        SOURCE,
        ['auths["https://Reg.Example/v1/"].auth'],
      );
    });
  });
});

describe('registryKey', () => {
  it('drops a scheme and a path and lower-cases', () => {
    assert.equal(registryKey('https://reg.example:5000/v1/'), 'reg.example:5000');
    assert.equal(registryKey('HTTPS://Reg.Example'), 'reg.example');
    assert.equal(registryKey('reg.example/v2/'), 'reg.example');
    assert.equal(registryKey('Reg.Example:5000'), 'reg.example:5000');
  });
});

describe('readDockerConfig', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'oci-client-docker-config-'));
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reads the logins of a file', async () => {
    const file = join(dir, 'config.json');
    await writeFile(
      file,
      config({
        'https://reg.example:5000/v1/': { auth: b64(`alice:${PASSWORD}`) },
        'other.example': { identitytoken: 't' },
      }),
    );
    const creds = await readDockerConfig(file);
    assert.deepEqual([...creds.entries()], [['reg.example:5000', { username: 'alice', password: PASSWORD }]]);
  });

  it('rejects a missing file, naming it', async () => {
    const file = join(dir, 'does-not-exist.json');
    await assertInvalidAsync(() => readDockerConfig(file), file, ['cannot read it']);
  });

  it('rejects a directory, naming it', async () => {
    await assertInvalidAsync(() => readDockerConfig(dir), dir, ['cannot read it']);
  });

  it('rejects a file that is not JSON, naming it', async () => {
    const file = join(dir, 'not-json.json');
    await writeFile(file, 'auths: {}\n');
    await assertInvalidAsync(() => readDockerConfig(file), file, ['not JSON']);
  });

  it('rejects a file that is a JSON array, naming it', async () => {
    const file = join(dir, 'array.json');
    await writeFile(file, '[]');
    await assertInvalidAsync(() => readDockerConfig(file), file, ['not a JSON object']);
  });

  it('rejects a malformed auth in a file, naming the file and the entry, not the password', async () => {
    const file = join(dir, 'malformed.json');
    await writeFile(
      file,
      config({
        'good.example': { username: 'u', password: PASSWORD },
        'bad.example': { auth: b64(PASSWORD.replace(':', '')) },
      }),
    );
    await assertInvalidAsync(
      () => readDockerConfig(file),
      file,
      ['auths["bad.example"].auth'],
      [PASSWORD, PASSWORD.replace(':', '')],
    );
  });
});
