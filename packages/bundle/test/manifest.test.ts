import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readManifest, releaseId, type ReleaseManifest } from '../src/index.js';
import { validateManifest } from '../src/manifest.js';

const minimal = { name: 'web', version: '1.4.2', start: ['node', 'server.js'] };

/** The problems validateManifest reports for `raw` (it must throw the INVALID code). */
function problemsOf(raw: unknown): string[] {
  try {
    validateManifest(raw);
  } catch (err) {
    const e = err as { code: string; details: { problems: string[] } };
    assert.equal(e.code, 'SWARM_ERR_RELEASE_MANIFEST_INVALID');
    return e.details.problems;
  }
  assert.fail('expected the manifest to be refused');
}

function refuses(raw: unknown, pattern: RegExp): void {
  const problems = problemsOf(raw);
  assert.ok(
    problems.some((p) => pattern.test(p)),
    `no problem matches ${pattern}: ${JSON.stringify(problems)}`,
  );
}

describe('validateManifest', () => {
  test('accepts the example of wiki/reference/layouts.md#release-tarball', () => {
    const spec = {
      name: 'web',
      version: '1.4.2',
      start: ['node', 'server.js'],
      install: ['npm', 'ci', '--omit=dev'],
      health: { url: 'https://127.0.0.1:8765/health', healthyForMs: 3000, deadlineMs: 30000 },
      stopTimeoutMs: 10000,
    };
    assert.deepEqual(validateManifest(spec), spec);
  });

  test('accepts each kind of health check, with the agent-port placeholder', () => {
    for (const health of [
      { url: 'http://127.0.0.1:${SWARM_AGENT_PORT}/health' },
      { tcp: '127.0.0.1:${SWARM_AGENT_PORT}' },
      { tcp: '[::1]:8765', deadlineMs: 0, healthyForMs: 0 },
      { exec: ['./check.sh', '--quick'] },
    ]) {
      assert.deepEqual(validateManifest({ ...minimal, health }).health, health);
    }
  });

  test('ignores and drops unknown keys, so newer manifests still install', () => {
    const manifest = validateManifest({ ...minimal, futureFeature: { x: 1 }, health: { exec: ['true'], retries: 3 } });
    assert.deepEqual(manifest, { ...minimal, health: { exec: ['true'] } });
  });

  test('normalizes files entries', () => {
    const manifest = validateManifest({ ...minimal, files: ['./dist/', 'server.js', 'lib//a.js'] });
    assert.deepEqual(manifest.files, ['dist', 'server.js', 'lib/a.js']);
  });

  test('returns a fresh object: later edits of the input do not leak in', () => {
    const raw = { ...minimal, start: ['node', 'a.js'] };
    const manifest: ReleaseManifest = validateManifest(raw);
    raw.start.push('--evil');
    assert.deepEqual(manifest.start, ['node', 'a.js']);
  });

  test('refuses a manifest that is not an object', () => {
    for (const raw of [null, 'web', 42, [minimal]]) refuses(raw, /must be a JSON object/);
  });

  test('refuses prototype-pollution keys (__proto__, constructor) at any level', () => {
    refuses(
      JSON.parse('{"name":"web","version":"1","start":["x"],"__proto__":{"polluted":true}}'),
      /__proto__: forbidden/,
    );
    refuses({ ...minimal, constructor: { prototype: {} } }, /^constructor: forbidden/);
    refuses(
      JSON.parse('{"name":"web","version":"1","start":["x"],"health":{"exec":["x"],"__proto__":{}}}'),
      /health\.__proto__: forbidden/,
    );
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('refuses a missing, non-string or path-like name', () => {
    refuses({ ...minimal, name: undefined }, /^name: required/);
    refuses({ ...minimal, name: 7 }, /^name: required/);
    refuses({ ...minimal, name: 'a/b' }, /^name: "a\/b" must be/);
    refuses({ ...minimal, name: '.hidden' }, /^name:/);
    refuses({ ...minimal, name: 'x'.repeat(65) }, /^name:/);
  });

  test('refuses a version that cannot be a directory name', () => {
    refuses({ ...minimal, version: undefined }, /^version: required/);
    refuses({ ...minimal, version: '..' }, /^version:/);
    refuses({ ...minimal, version: '1.0/evil' }, /^version:/);
    refuses({ ...minimal, version: '' }, /^version:/);
    refuses({ ...minimal, version: '1'.repeat(65) }, /^version:/);
  });

  test('refuses a missing, empty or malformed start command', () => {
    refuses({ ...minimal, start: undefined }, /^start: required/);
    refuses({ ...minimal, start: [] }, /^start: must be a non-empty array/);
    refuses({ ...minimal, start: 'node server.js' }, /^start: must be a non-empty array/);
    refuses({ ...minimal, start: ['node', ''] }, /^start\[1\]: must be a non-empty string/);
    refuses({ ...minimal, start: ['node', 3] }, /^start\[1\]:/);
    refuses({ ...minimal, start: ['no\0de'] }, /^start\[0\]: must not contain a NUL/);
  });

  test('refuses a malformed install command', () => {
    refuses({ ...minimal, install: [] }, /^install: must be a non-empty array/);
    refuses({ ...minimal, install: ['npm', null] }, /^install\[1\]:/);
  });

  test('refuses a health check with no kind or more than one', () => {
    refuses({ ...minimal, health: {} }, /health: must have one of url, tcp or exec/);
    refuses(
      { ...minimal, health: { url: 'http://a/', tcp: 'a:1' } },
      /exactly one of url, tcp or exec, found url and tcp/,
    );
    refuses({ ...minimal, health: 'http://a/' }, /health: must be an object/);
  });

  test('refuses a health URL that is not http(s)', () => {
    refuses({ ...minimal, health: { url: 'ftp://127.0.0.1/x' } }, /health\.url: must use http or https, not ftp/);
    refuses({ ...minimal, health: { url: 'not a url' } }, /health\.url: "not a url" is not a URL/);
    refuses({ ...minimal, health: { url: 42 } }, /health\.url:/);
  });

  test('refuses a TCP address without a valid port', () => {
    for (const tcp of ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', ':8765', '127.0.0.1:${PORT}', 'a b:1']) {
      refuses({ ...minimal, health: { tcp } }, /health\.tcp: must be "host:port"/);
    }
  });

  test('refuses an empty exec health check', () => {
    refuses({ ...minimal, health: { exec: [] } }, /health\.exec: must be a non-empty array/);
  });

  test('refuses durations out of bounds, fractional or inconsistent', () => {
    refuses({ ...minimal, stopTimeoutMs: -1 }, /^stopTimeoutMs: must be an integer/);
    refuses({ ...minimal, stopTimeoutMs: 1.5 }, /^stopTimeoutMs:/);
    refuses({ ...minimal, stopTimeoutMs: '1000' }, /^stopTimeoutMs:/);
    refuses({ ...minimal, health: { exec: ['x'], deadlineMs: 3_600_001 } }, /health\.deadlineMs:/);
    refuses(
      { ...minimal, health: { exec: ['x'], healthyForMs: 5000, deadlineMs: 1000 } },
      /healthyForMs: must not exceed health\.deadlineMs/,
    );
  });

  test('refuses files entries that are absolute, climb out, or use backslashes', () => {
    refuses({ ...minimal, files: 'dist' }, /^files: must be an array/);
    refuses({ ...minimal, files: ['/etc/passwd'] }, /^files\[0\]: "\/etc\/passwd": absolute path/);
    refuses({ ...minimal, files: ['dist/../../x'] }, /^files\[0\]: .*'\.\.' segment/);
    refuses({ ...minimal, files: ['a\\b'] }, /^files\[0\]: .*backslash/);
    refuses({ ...minimal, files: ['ok', '.'] }, /^files\[1\]: "\." names the whole tree/);
    refuses({ ...minimal, files: [''] }, /^files\[0\]: must be a non-empty string/);
  });

  test('reports every problem at once, in the message too', () => {
    let caught: { message: string; details: { problems: string[] } } | undefined;
    try {
      validateManifest({ name: 'a/b', start: [], health: { tcp: 'nope' }, stopTimeoutMs: -5 });
    } catch (err) {
      caught = err as typeof caught;
    }
    assert.ok(caught);
    assert.equal(caught.details.problems.length, 5, JSON.stringify(caught.details.problems));
    assert.match(caught.message, /\(5 problems\)/);
    for (const field of ['name:', 'version:', 'start:', 'health.tcp:', 'stopTimeoutMs:']) {
      assert.ok(caught.message.includes(field), `${field} missing from the message`);
    }
  });
});

describe('readManifest', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swarm-manifest-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function tree(name: string, setup: (root: string) => Promise<void>): Promise<string> {
    const root = join(dir, name);
    await mkdir(root);
    await setup(root);
    return root;
  }

  test('reads and validates release.json', async () => {
    const root = await tree('ok', (r) => writeFile(join(r, 'release.json'), JSON.stringify(minimal)));
    assert.deepEqual(await readManifest(root), minimal);
  });

  test('a missing release.json is SWARM_ERR_RELEASE_MANIFEST_MISSING', async () => {
    const root = await tree('missing', async () => {});
    await assert.rejects(readManifest(root), { code: 'SWARM_ERR_RELEASE_MANIFEST_MISSING' });
    await assert.rejects(readManifest(join(dir, 'no-such-dir')), { code: 'SWARM_ERR_RELEASE_MANIFEST_MISSING' });
  });

  test('release.json that is not JSON is invalid, with the parse error', async () => {
    const root = await tree('garbage', (r) => writeFile(join(r, 'release.json'), '{ name: web'));
    await assert.rejects(readManifest(root), (err: { code: string; details: { problems: string[]; path: string } }) => {
      assert.equal(err.code, 'SWARM_ERR_RELEASE_MANIFEST_INVALID');
      assert.match(err.details.problems[0]!, /not valid JSON/);
      assert.equal(err.details.path, join(root, 'release.json'));
      return true;
    });
  });

  test('release.json must be a regular file, not a symlink or a directory', async () => {
    const link = await tree('link', async (r) => {
      await writeFile(join(r, 'real.json'), JSON.stringify(minimal));
      await symlink('real.json', join(r, 'release.json'));
    });
    await assert.rejects(readManifest(link), {
      code: 'SWARM_ERR_RELEASE_MANIFEST_INVALID',
      message: /found a symlink/,
    });
    const directory = await tree('dir', (r) => mkdir(join(r, 'release.json')));
    await assert.rejects(readManifest(directory), {
      code: 'SWARM_ERR_RELEASE_MANIFEST_INVALID',
      message: /found a directory/,
    });
  });

  test('an invalid release.json names its path in the error details', async () => {
    const root = await tree('invalid', (r) => writeFile(join(r, 'release.json'), JSON.stringify({ name: 'web' })));
    await assert.rejects(readManifest(root), (err: { details: { problems: string[]; path: string } }) => {
      assert.equal(err.details.path, join(root, 'release.json'));
      assert.equal(err.details.problems.length, 2);
      return true;
    });
  });
});

describe('releaseId', () => {
  test('is <version>-<first 12 hex digits of the sha256>', () => {
    const sha = 'AB'.repeat(32);
    assert.equal(releaseId(minimal, sha), '1.4.2-abababababab');
  });

  test('refuses something that is not a sha256', () => {
    assert.throws(() => releaseId(minimal, '../../etc'), { code: 'SWARM_ERR_UPLOAD_DIGEST_INVALID' });
  });
});
