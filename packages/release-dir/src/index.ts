export { releaseDirPaths, releaseDir, stagingDir, CURRENT_TMP_PREFIX, type ReleaseDirPaths } from './paths.js';
export { pointCurrentAt, removeCurrent, readCurrent, resolveCurrent } from './current-link.js';
export { fsyncDir, writeFileAtomic, writeFileDurable, isAtomicWriteTemp } from './durable-write.js';
export { releaseExists, removeRelease, removeTrash, removeStaging } from './release-store.js';
export { processIdentity, isRunning, isAlive, type ProcessIdentity } from './process-identity.js';
