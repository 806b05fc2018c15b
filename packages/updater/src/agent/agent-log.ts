import { copyFile, open, rename, stat, truncate } from 'node:fs/promises';

/** Size of a file, 0 when it does not exist. */
export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/**
 * Rotate the agent log before a start: when it is over `maxBytes` it becomes `agent.log.1`
 * (replacing the previous one) and the new agent writes to a fresh file. Nobody writes to the
 * old file at this point (the previous agent has been stopped).
 */
export async function rotateBeforeStart(path: string, maxBytes: number): Promise<void> {
  if ((await fileSize(path)) > maxBytes) await rename(path, `${path}.1`);
}

/**
 * Cap a log that a running agent still writes to: renaming would not help (the agent's file
 * descriptor follows the renamed file), so copy it to `agent.log.1` and truncate it in place.
 * The descriptor was opened with O_APPEND, so the agent's next write lands at the new end.
 * Lines written between the copy and the truncation are lost; that is the price of a cap.
 */
export async function capRunningLog(path: string, maxBytes: number): Promise<boolean> {
  if ((await fileSize(path)) <= maxBytes) return false;
  await copyFile(path, `${path}.1`);
  await truncate(path, 0);
  return true;
}

/** The last `maxBytes` written to `path` since `offset` (what one agent run printed). */
export async function readLogTail(path: string, offset: number, maxBytes = 4096): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = (await handle.stat()).size;
    // A log capped since `offset` was recorded starts over at 0.
    const from = offset > size ? 0 : offset;
    const start = Math.max(from, size - maxBytes);
    const buf = Buffer.alloc(size - start);
    if (buf.length > 0) await handle.read(buf, 0, buf.length, start);
    return buf.toString('utf8');
  } finally {
    await handle.close();
  }
}
