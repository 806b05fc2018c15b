// Opening the registry: one SQLite file, WAL, busy timeout, versioned migrations.
export { openRegistry, type Registry, type OpenRegistryOptions } from './open-registry.js';

// Hosts and their certificate pins.
export type { HostRecord, NewHost } from './hosts.js';

// Operation history: rollouts, rollbacks and self-updates with per-host outcomes.
export {
  type Operation,
  type OperationKind,
  type OperationStatus,
  type OperationHost,
  type HostOutcome,
  type HostResult,
  type NewOperation,
  type ReleaseRef,
  type RecordedError,
  type ListOperationsOptions,
} from './operations.js';
