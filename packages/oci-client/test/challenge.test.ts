import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseChallenge } from '../src/challenge.js';

describe('parseChallenge', () => {
  it('parses a Bearer challenge with quoted realm, service and scope', () => {
    assert.deepEqual(
      parseChallenge(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/web:pull"',
      ),
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:team/web:pull' },
      },
    );
  });

  it('keeps commas and colons inside a quoted value', () => {
    const challenge = parseChallenge(
      'Bearer realm="https://auth.example/token",scope="repository:a/b:pull,push",service="reg"',
    );
    assert.deepEqual(challenge?.params, {
      realm: 'https://auth.example/token',
      scope: 'repository:a/b:pull,push',
      service: 'reg',
    });
  });

  it('keeps several space-separated scopes in one quoted value', () => {
    const challenge = parseChallenge('Bearer scope="repository:a/b:pull repository:c/d:pull,push"');
    assert.equal(challenge?.params.scope, 'repository:a/b:pull repository:c/d:pull,push');
  });

  it('allows spaces around = and after commas', () => {
    const challenge = parseChallenge('  Bearer   realm = "https://auth.example/token" ,  service= "reg.example"');
    assert.deepEqual(challenge, {
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'reg.example' },
    });
  });

  it('undoes backslash escapes in quoted values', () => {
    assert.equal(parseChallenge('Basic realm="say \\"hi\\""')?.params.realm, 'say "hi"');
    assert.equal(parseChallenge('Basic realm="back\\\\slash"')?.params.realm, 'back\\slash');
    assert.equal(parseChallenge('Basic realm="\\a\\b"')?.params.realm, 'ab');
    assert.deepEqual(parseChallenge('Bearer realm="a\\",b",service="s"')?.params, { realm: 'a",b', service: 's' });
  });

  it('reads unquoted token values', () => {
    assert.deepEqual(
      parseChallenge('Bearer realm=https://auth.example/token,service=reg.example,scope=repository:a/b:pull'),
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.example/token', service: 'reg.example', scope: 'repository:a/b:pull' },
      },
    );
  });

  it('mixes quoted and unquoted values', () => {
    assert.deepEqual(
      parseChallenge('Bearer realm="https://auth.example/token",service=reg,error=insufficient_scope')?.params,
      {
        realm: 'https://auth.example/token',
        service: 'reg',
        error: 'insufficient_scope',
      },
    );
  });

  it('reads an empty quoted value', () => {
    assert.deepEqual(parseChallenge('Bearer realm="",service="s"')?.params, { realm: '', service: 's' });
  });

  it('parses Basic with a realm', () => {
    assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), {
      scheme: 'basic',
      params: { realm: 'Registry Realm' },
    });
  });

  it('parses a scheme with no parameters', () => {
    assert.deepEqual(parseChallenge('Basic'), { scheme: 'basic', params: {} });
  });

  it('lower-cases the scheme', () => {
    assert.equal(parseChallenge('BEARER realm="r"')?.scheme, 'bearer');
    assert.equal(parseChallenge('bAsIc realm="r"')?.scheme, 'basic');
  });

  it('lower-cases parameter names but not their values', () => {
    assert.deepEqual(
      parseChallenge('Bearer Realm="https://Auth.Example/Token",SERVICE="Reg.Example",sCoPe="repository:A:pull"')
        ?.params,
      {
        realm: 'https://Auth.Example/Token',
        service: 'Reg.Example',
        scope: 'repository:A:pull',
      },
    );
  });

  it('uses the first value of an array header', () => {
    assert.deepEqual(parseChallenge(['Bearer realm="https://auth.example/token"', 'Basic realm="other"']), {
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token' },
    });
    assert.deepEqual(parseChallenge(['Basic realm="first"', 'Bearer realm="second"']), {
      scheme: 'basic',
      params: { realm: 'first' },
    });
  });

  it('keeps only the first challenge of a value', () => {
    assert.deepEqual(parseChallenge('Basic realm="a", Bearer realm="b",service="s"'), {
      scheme: 'basic',
      params: { realm: 'a' },
    });
  });

  it('returns null for no header, an empty one or one without a scheme', () => {
    assert.equal(parseChallenge(undefined), null);
    assert.equal(parseChallenge(''), null);
    assert.equal(parseChallenge([]), null);
    assert.equal(parseChallenge(['']), null);
    assert.equal(parseChallenge('   '), null);
    assert.equal(parseChallenge('"Bearer"'), null);
  });
});
