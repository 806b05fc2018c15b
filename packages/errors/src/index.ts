// The error catalogue: codes, statuses, exit codes and remedies, declared once.
export { catalogue, isErrorCode, type ErrorCode, type ErrorSpec } from './catalogue.js';

// Building, recognizing and moving errors across the wire.
export {
  swarmError,
  isSwarmError,
  hasCode,
  errorBody,
  reviveError,
  type SwarmError,
  type ErrorDetails,
} from './swarm-error.js';
