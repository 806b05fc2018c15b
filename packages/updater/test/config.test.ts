import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_EXTRACT_LIMITS } from '@swarm/bundle';
import { hasCode } from '@swarm/errors';
import { parseUpdaterConfig, updaterConfigKeys } from '../src/index.js';
import { parseListen } from '../src/config/parse-config.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swarm-updater-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const required = { bundle: '/etc/swarm/bundle', installDir: '/var/lib/swarm' };

describe('the declaration', () => {
  it('names every env var SWARM_<UPPER_SNAKE> and every flag --kebab-case, once each', () => {
    const envs = new Set<string>();
    const flags = new Set<string>();
    for (const key of updaterConfigKeys) {
      const kebab = key.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      assert.equal(key.flag, `--${kebab}`);
      assert.equal(key.env, `SWARM_${kebab.replaceAll('-', '_').toUpperCase()}`);
      assert.ok(key.description.length > 10, `${key.key} is described`);
      envs.add(key.env);
      flags.add(key.flag);
    }
    assert.equal(envs.size, updaterConfigKeys.length);
    assert.equal(flags.size, updaterConfigKeys.length);
    const byKey = Object.fromEntries(updaterConfigKeys.map((k) => [k.key, k]));
    assert.equal(byKey.maxUploadBytes!.env, 'SWARM_MAX_UPLOAD_BYTES');
    assert.equal(byKey.keep!.flag, '--keep');
  });

  it('has the wiki/reference/guarantees.md#defaults-and-limits defaults and the bundle extraction limits', () => {
    const config = parseUpdaterConfig({ flags: required });
    assert.equal(config.maxUploadBytes, 1024 ** 3);
    assert.equal(config.keep, 2);
    assert.equal(config.probeDeadlineMs, 30_000);
    assert.equal(config.healthyForMs, 3_000);
    assert.equal(config.stopTimeoutMs, 10_000);
    assert.equal(config.listen, null, 'derived from host.json at start');
    assert.equal(config.selfDir, null);
    assert.equal(config.extractMaxEntries, DEFAULT_EXTRACT_LIMITS.maxEntries);
    assert.equal(config.extractMaxTotalBytes, DEFAULT_EXTRACT_LIMITS.maxTotalBytes);
    assert.equal(config.extractMaxEntryBytes, DEFAULT_EXTRACT_LIMITS.maxEntryBytes);
    assert.equal(config.extractMaxDepth, DEFAULT_EXTRACT_LIMITS.maxDepth);
    assert.equal(config.extractMaxPathBytes, DEFAULT_EXTRACT_LIMITS.maxPathBytes);
    assert.equal(config.extractMaxInflationRatio, DEFAULT_EXTRACT_LIMITS.maxInflationRatio);
    assert.equal(config.extractInflationFloorBytes, DEFAULT_EXTRACT_LIMITS.inflationFloorBytes);
  });

  it('has the gzip bomb guard of issue 12: ratio 100 past 64 MiB; caps of 2 GiB in all, 1 GiB per file', () => {
    const config = parseUpdaterConfig({ flags: required });
    assert.equal(config.extractMaxInflationRatio, 100);
    assert.equal(config.extractInflationFloorBytes, 64 * 1024 ** 2);
    assert.equal(config.extractMaxTotalBytes, 2 * 1024 ** 3);
    assert.equal(config.extractMaxEntryBytes, 1024 ** 3);
  });

  it('gives every key a default text for --help (never "undefined")', () => {
    const byKey = Object.fromEntries(updaterConfigKeys.map((k) => [k.key, k.defaultText]));
    assert.equal(byKey.bundle, '(required)');
    assert.equal(byKey.selfDir, '(none)');
    assert.equal(byKey.extractMaxInflationRatio, '100');
    assert.equal(byKey.extractInflationFloorBytes, String(64 * 1024 ** 2));
    for (const key of updaterConfigKeys) {
      assert.ok(key.defaultText.length > 0 && !key.defaultText.includes('undefined'), key.key);
    }
  });
});

describe('wiki/remote-updates.md', () => {
  it('lists every setting with the flag, environment variable and default of the declaration', async () => {
    const page = await readFile(new URL('../../../wiki/remote-updates.md', import.meta.url), 'utf8');
    const rows = new Map<string, string[]>();
    for (const line of page.split('\n')) {
      const m = /^\| `(\w+)` \| `(--[\w-]+)` \| `(SWARM_\w+)` \| ([^|]+) \|/.exec(line);
      if (m) rows.set(m[1]!, [m[2]!, m[3]!, m[4]!.trim()]);
    }
    for (const key of updaterConfigKeys) {
      const row = rows.get(key.key);
      assert.ok(row, `${key.key} is in the settings table`);
      assert.deepEqual(row, [key.flag, key.env, key.defaultText], key.key);
    }
    assert.equal(rows.size, updaterConfigKeys.length, 'and nothing else');
  });
});

describe('sources', () => {
  it('defaults < config file < environment < flags', async () => {
    const file = join(dir, 'updater.json');
    await writeFile(
      file,
      JSON.stringify({ ...required, keep: 3, maxUploadBytes: 1000, healthyForMs: 10, installDir: 'relative/install' }),
    );
    const config = parseUpdaterConfig({
      file,
      env: { SWARM_MAX_UPLOAD_BYTES: '2000', SWARM_HEALTHY_FOR_MS: '20', PATH: '/usr/bin' },
      flags: { healthyForMs: '30', unrelatedCliOption: true },
    });
    assert.equal(config.keep, 3, 'from the file');
    assert.equal(config.maxUploadBytes, 2000, 'env over file');
    assert.equal(config.healthyForMs, 30, 'flag over env');
    assert.equal(config.installDir, join(dir, 'relative/install'), 'file paths are relative to the file');
  });

  it('reads the file named by SWARM_CONFIG, and resolves flag paths against cwd', async () => {
    const file = join(dir, 'env-named.json');
    await writeFile(file, JSON.stringify({ keep: 5 }));
    const config = parseUpdaterConfig({
      env: { SWARM_CONFIG: file },
      flags: { bundle: 'b', installDir: 'i', listen: '[::1]:9000' },
      cwd: '/srv',
    });
    assert.equal(config.keep, 5);
    assert.equal(config.bundle, '/srv/b');
    assert.deepEqual(config.listen, { host: '::1', port: 9000 });
  });
});

describe('validation', () => {
  it('reports every problem of every source at once as CONFIG_INVALID', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ keep: 1, colour: 'blue' }));
    let caught: unknown;
    try {
      parseUpdaterConfig({
        file,
        env: { SWARM_MAX_UPLOAD_BYTES: 'lots' },
        flags: { listen: 'nowhere', probeDeadlineMs: -5 },
      });
    } catch (err) {
      caught = err;
    }
    assert.ok(hasCode(caught, 'SWARM_ERR_CONFIG_INVALID'));
    const problems = (caught as { details: { problems: string[] } }).details.problems;
    const expected = [
      /keep: must be at least 2/,
      /unknown key "colour"/,
      /SWARM_MAX_UPLOAD_BYTES: must be an integer/,
      /--listen: must be HOST:PORT/,
      /--probe-deadline-ms: must be at least 1/,
      /bundle is required/,
      /installDir is required/,
    ];
    for (const re of expected)
      assert.ok(
        problems.some((p) => re.test(p)),
        `${re} in ${JSON.stringify(problems)}`,
      );
    assert.equal(problems.length, expected.length);
  });

  it('refuses bad inflation-ratio settings from flags, environment and file, all at once', async () => {
    const file = join(dir, 'bad-ratio.json');
    await writeFile(file, JSON.stringify({ ...required, extractMaxInflationRatio: 2.5 }));
    let caught: unknown;
    try {
      parseUpdaterConfig({
        file,
        env: { SWARM_EXTRACT_INFLATION_FLOOR_BYTES: '64MiB' },
        flags: { extractMaxInflationRatio: '0' },
      });
    } catch (err) {
      caught = err;
    }
    assert.ok(hasCode(caught, 'SWARM_ERR_CONFIG_INVALID'), String(caught));
    const problems = (caught as { details: { problems: string[] } }).details.problems;
    const expected = [
      /extractMaxInflationRatio: must be an integer/,
      /SWARM_EXTRACT_INFLATION_FLOOR_BYTES: must be an integer/,
      /--extract-max-inflation-ratio: must be at least 1/,
    ];
    for (const re of expected)
      assert.ok(
        problems.some((p) => re.test(p)),
        `${re} in ${JSON.stringify(problems)}`,
      );
    assert.equal(problems.length, expected.length, JSON.stringify(problems));
    const ok = parseUpdaterConfig({
      env: { SWARM_EXTRACT_INFLATION_FLOOR_BYTES: '1048576' },
      flags: { ...required, extractMaxInflationRatio: '1000' },
    });
    assert.equal(ok.extractInflationFloorBytes, 1024 * 1024);
    assert.equal(ok.extractMaxInflationRatio, 1000);
  });

  it('refuses an unreadable or non-JSON config file', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(file, '{ nope');
    assert.throws(
      () => parseUpdaterConfig({ file, flags: required }),
      (err: Error) => hasCode(err, 'SWARM_ERR_CONFIG_INVALID') && /not JSON/.test(err.message),
    );
    assert.throws(() => parseUpdaterConfig({ file: join(dir, 'missing.json'), flags: required }), /cannot read it/);
  });

  it('parses listen addresses', () => {
    assert.deepEqual(parseListen('0.0.0.0:8766'), { host: '0.0.0.0', port: 8766 });
    assert.deepEqual(parseListen('[::]:0'), { host: '::', port: 0 });
    assert.equal(parseListen('8766'), null);
    assert.equal(parseListen('host:70000'), null);
    assert.equal(parseListen('[nope]:1'), null);
  });
});

describe('the registry settings', () => {
  it('--registry-timeout is a duration with its unit (default 15m), --registry-plain-http a list of HOST[:PORT]', () => {
    const defaults = parseUpdaterConfig({ flags: required });
    assert.equal(defaults.registryTimeout, 15 * 60_000);
    assert.equal(defaults.registryPlainHttp, null);
    assert.equal(defaults.registryAuth, null);
    for (const [text, ms] of [
      ['1500ms', 1500],
      ['30s', 30_000],
      ['15m', 900_000],
      ['2h', 7_200_000],
      ['1d', 86_400_000],
    ] as const) {
      assert.equal(parseUpdaterConfig({ flags: { ...required, registryTimeout: text } }).registryTimeout, ms, text);
    }
    const config = parseUpdaterConfig({
      flags: { ...required, registryPlainHttp: 'Mirror.local:5000, 10.0.0.7', registryAuth: 'auth.json' },
      cwd: '/etc/swarm',
    });
    assert.deepEqual(config.registryPlainHttp, ['mirror.local:5000', '10.0.0.7']);
    assert.equal(config.registryAuth, '/etc/swarm/auth.json');
    // From the file: a JSON list, and a number of milliseconds.
    assert.deepEqual(parseUpdaterConfig({ flags: { ...required, registryPlainHttp: ['a:1'], registryTimeout: 5000 } }).registryPlainHttp, ['a:1']);
  });

  it('refuses a duration without its unit or under 1 s, and a plain-HTTP entry that is not HOST[:PORT], all at once', () => {
    assert.throws(
      () =>
        parseUpdaterConfig({
          flags: { ...required, registryTimeout: '900' },
          env: { SWARM_REGISTRY_PLAIN_HTTP: 'http://mirror:5000' },
        }),
      (err: Error & { details?: { problems?: string[] } }) => {
        assert.ok(hasCode(err, 'SWARM_ERR_CONFIG_INVALID'));
        const problems = err.details?.problems ?? [];
        assert.ok(problems.some((p) => /--registry-timeout: must be a duration with its unit/.test(p)), problems.join('\n'));
        assert.ok(problems.some((p) => /SWARM_REGISTRY_PLAIN_HTTP: "http:\/\/mirror:5000" is not HOST\[:PORT\]/.test(p)), problems.join('\n'));
        return true;
      },
    );
    assert.throws(() => parseUpdaterConfig({ flags: { ...required, registryTimeout: '500ms' } }), /must be at least 1000 ms/);
  });
});
