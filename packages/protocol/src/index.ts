// The wire contract of the updater (wiki/reference/updater-api.md): HTTP bodies, the
// supervisor ↔ updater IPC messages, and the validators that check them. No dependencies:
// the updater, its client, the supervisor and the CLI all build on it.
export { parseReleaseList, type Release, type RetainedRelease, type ReleaseList } from './release.js';
export {
  type OperationKind,
  type OperationOutcome,
  type OperationInfo,
  type OperationError,
  type OperationReport,
} from './operation-report.js';
export { parsePullRequest, type PullRequest } from './pull-request.js';
export { PROTOCOL_VERSION, parseHealth, type AgentStatus, type UpdaterHealth } from './health.js';
export {
  parseOperationResult,
  parseStageAnswer,
  parseDiscardAnswer,
  parseActivateRequest,
  type OperationResult,
  type SelfUpdateAccepted,
  type StageAnswer,
  type DiscardAnswer,
  type ActivateRequest,
} from './operation-result.js';
export {
  SELF_UPDATE_RECORD_ENV,
  encodeSelfUpdateRecord,
  decodeSelfUpdateRecord,
  type SelfUpdateRecord,
  type SwitchRecord,
} from './self-update-record.js';
export {
  selfUpdateRequest,
  selfUpdateRecordMessage,
  startFailureReport,
  isSelfUpdateRequest,
  isSelfUpdateRecordMessage,
  isStartFailureReport,
  type SelfUpdateRequest,
  type SelfUpdateRecordMessage,
  type StartFailureReport,
} from './ipc.js';
