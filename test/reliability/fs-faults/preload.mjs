// Filesystem fault injection for the reliability suite (issue 7 §3) — test-only.
//
// Loaded into a real updater process with NODE_OPTIONS="--import <this file>" and armed by
// SWARM_TEST_FS_FAULTS=<control.json>. It wraps the node:fs and node:fs/promises calls the
// updater writes with (open, write, fsync, mkdir, rename, symlink, link, unlink, rm,
// writeFile, copyFile, truncate — callback, promise and FileHandle forms) so that a chosen
// call fails with a chosen errno (ENOSPC, EIO, EACCES, …), as a full disk or a dying disk
// would make it fail. Plain JavaScript on purpose: it runs before tsx is registered, and in
// no other process (see below).
//
// The control file is JSON: { "id": "case-7", "faults": [ { "op": "rename",
// "path": "regexp source", "nth": 2, "times": 1, "errno": "EIO" } ] }. A fault fires on the
// `nth` call of `op` (counting from when this control file content was loaded) whose path —
// any path argument: source or destination of a rename, target or location of a symlink —
// matches `path`, and on the `times - 1` matching calls after it. The file is re-read
// whenever it changes (a stat per wrapped call), so one updater process can run many cases;
// counters restart with each new content. Every fault that fires is appended as a JSON
// line to <control.json>.log. A fault with `"hold": "<path>"` instead of an errno does not
// fail its call but holds it (fs/promises calls only) until that path exists — a slow disk
// on demand, to open a window the test acts in. Without SWARM_TEST_FS_FAULTS this module
// does nothing.
//
// ESM named imports of builtins (`import { rename } from 'node:fs/promises'`) are bound to
// the module's exports: syncBuiltinESMExports() pushes the wrapped functions into them.
// Worker threads do not run NODE_OPTIONS preloads, so the extraction worker's own writes
// are not faulted (the bundle package's tests cover its write failures); the staging
// directory it extracts into is created on the main thread and is.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { fileURLToPath } from 'node:url';

const ERRNO = { ENOSPC: -28, EIO: -5, EACCES: -13, EROFS: -30, EMFILE: -24, EDQUOT: -122, EPERM: -1 };

async function install(controlPath) {
  const p = fs.promises;
  const orig = {
    statSync: fs.statSync,
    readFileSync: fs.readFileSync,
    appendFileSync: fs.appendFileSync,
  };
  let loadedKey = '';
  let faults = [];
  let caseId = null;

  function refresh() {
    let key;
    try {
      const st = orig.statSync(controlPath);
      key = `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      key = 'none';
    }
    if (key === loadedKey) return;
    loadedKey = key;
    faults = [];
    caseId = null;
    if (key === 'none') return;
    try {
      const control = JSON.parse(orig.readFileSync(controlPath, 'utf8'));
      caseId = control.id ?? null;
      faults = (control.faults ?? []).map((f) => ({
        op: f.op,
        re: new RegExp(f.path),
        nth: f.nth ?? 1,
        times: f.times ?? 1,
        errno: f.errno ?? 'EIO',
        hold: f.hold ?? null,
        seen: 0,
      }));
    } catch {
      // Half-written by the test (it writes atomically, so this is only a first read): retry on the next call.
      loadedKey = '';
    }
  }

  function log(record) {
    try {
      orig.appendFileSync(`${controlPath}.log`, `${JSON.stringify(record)}\n`);
    } catch {
      // The log is best effort; the fault itself is what matters.
    }
  }

  /** Resolve once `path` exists (polling: no fs call of ours may go through the wrappers). */
  async function held(path) {
    for (;;) {
      try {
        orig.statSync(path);
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  /** The error to throw for this call, `{ hold }` to hold it, or null to let it through. */
  function faultFor(op, syscall, paths) {
    refresh();
    for (const f of faults) {
      if (f.op !== op) continue;
      if (!paths.some((path) => typeof path === 'string' && f.re.test(path))) continue;
      f.seen += 1;
      if (f.seen < f.nth || f.seen >= f.nth + f.times) continue;
      const path = paths.find((x) => typeof x === 'string' && f.re.test(x));
      if (f.hold) {
        log({ id: caseId, op, syscall, path, nth: f.seen, hold: f.hold, pid: process.pid });
        return { hold: f.hold };
      }
      const err = new Error(`${f.errno}: injected fault, ${syscall} '${path}'`);
      Object.assign(err, { errno: ERRNO[f.errno] ?? -5, code: f.errno, syscall, path });
      log({ id: caseId, op, syscall, path, nth: f.seen, errno: f.errno, pid: process.pid });
      return err;
    }
    return null;
  }

  const asPath = (value) => (typeof value === 'string' ? value : value instanceof URL ? fileURLToPath(value) : value);
  const pathOfFd = new Map();
  const pathOfHandle = new WeakMap();

  // --- fs/promises ----------------------------------------------------------------------
  const wrapPromise = (name, op, pathArgs) => {
    const real = p[name];
    p[name] = async function (...args) {
      const err = faultFor(
        op,
        name,
        pathArgs.map((i) => asPath(args[i])),
      );
      if (err?.hold) await held(err.hold);
      else if (err) throw err;
      return real.apply(this, args);
    };
  };
  const realOpen = p.open;
  p.open = async function (path, flags, mode) {
    const file = asPath(path);
    const err = faultFor('open', 'open', [file]);
    if (err?.hold) await held(err.hold);
    else if (err) throw err;
    const handle = await realOpen.call(this, path, flags, mode);
    pathOfHandle.set(handle, file);
    return handle;
  };
  wrapPromise('mkdir', 'mkdir', [0]);
  wrapPromise('rename', 'rename', [0, 1]);
  wrapPromise('symlink', 'symlink', [0, 1]);
  wrapPromise('link', 'link', [0, 1]);
  wrapPromise('unlink', 'unlink', [0]);
  wrapPromise('rm', 'rm', [0]);
  wrapPromise('writeFile', 'write', [0]);
  wrapPromise('copyFile', 'write', [0, 1]);
  wrapPromise('truncate', 'write', [0]);

  // --- FileHandle (the prototype of what fs/promises open() returns) ------------------
  const wrapHandle = (proto) => {
    for (const [name, op] of [
      ['write', 'write'],
      ['writeFile', 'write'],
      ['writev', 'write'],
      ['truncate', 'write'],
      ['sync', 'fsync'],
      ['datasync', 'fsync'],
    ]) {
      const real = proto[name];
      if (typeof real !== 'function') continue;
      proto[name] = async function (...args) {
        const err = faultFor(op, name, [pathOfHandle.get(this)]);
        if (err?.hold) await held(err.hold);
        else if (err) throw err;
        return real.apply(this, args);
      };
    }
  };

  // --- callback fs (createWriteStream opens and writes through these) -------------------
  const wrapCallback = (name, op, pathOf) => {
    const real = fs[name];
    fs[name] = function (...args) {
      const callback = args.at(-1);
      const err = faultFor(op, name, pathOf(args));
      if (err instanceof Error && typeof callback === 'function') {
        process.nextTick(callback, err);
        return undefined;
      }
      return real.apply(this, args);
    };
  };
  const realCbOpen = fs.open;
  fs.open = function (path, ...rest) {
    const file = asPath(path);
    const callback = rest.at(-1);
    const err = faultFor('open', 'open', [file]);
    if (err instanceof Error && typeof callback === 'function') {
      process.nextTick(callback, err);
      return undefined;
    }
    if (typeof callback !== 'function') return realCbOpen.call(this, path, ...rest);
    return realCbOpen.call(this, path, ...rest.slice(0, -1), (e, fd) => {
      if (!e) pathOfFd.set(fd, file);
      callback(e, fd);
    });
  };
  wrapCallback('write', 'write', (args) => [pathOfFd.get(args[0])]);
  wrapCallback('writev', 'write', (args) => [pathOfFd.get(args[0])]);
  wrapCallback('fsync', 'fsync', (args) => [pathOfFd.get(args[0])]);
  wrapCallback('mkdir', 'mkdir', (args) => [asPath(args[0])]);
  wrapCallback('rename', 'rename', (args) => [asPath(args[0]), asPath(args[1])]);
  wrapCallback('symlink', 'symlink', (args) => [asPath(args[0]), asPath(args[1])]);
  const realClose = fs.close;
  fs.close = function (fd, ...rest) {
    pathOfFd.delete(fd);
    return realClose.call(this, fd, ...rest);
  };

  // The FileHandle prototype is only reachable through a real handle. The preload's
  // top-level await holds the updater's entry point until everything is wrapped.
  const handle = await realOpen(process.execPath, 'r');
  wrapHandle(Object.getPrototypeOf(handle));
  await handle.close();
  syncBuiltinESMExports();
}

const CONTROL = process.env.SWARM_TEST_FS_FAULTS;

if (CONTROL) {
  // Not for children: the agent, install commands and health checks run unfaulted.
  delete process.env.SWARM_TEST_FS_FAULTS;
  const self = fileURLToPath(import.meta.url);
  const options = (process.env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean);
  const kept = options.filter(
    (opt, i) => !opt.includes(self) && !(opt === '--import' && options[i + 1]?.includes(self)),
  );
  if (kept.length > 0) process.env.NODE_OPTIONS = kept.join(' ');
  else delete process.env.NODE_OPTIONS;
  await install(CONTROL);
}
