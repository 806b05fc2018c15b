import {
  isSelfUpdateRecordMessage,
  selfUpdateRequest,
  startFailureReport,
  type SelfUpdateRecord,
} from '@swarm/protocol';

/**
 * The IPC channel to the supervisor that started this updater (`process.send`), if any. The
 * messages are @swarm/protocol's: the updater, which a self-update replaces, never imports
 * the supervisor, which it does not.
 */
export interface SupervisorChannel {
  /** Ask for the switch to a staged release; `attempt` names this self-update end to end. */
  requestSwitch(release: { id: string; version: string; attempt: string }): void;
  /** Called when the supervisor reports the outcome of a switch to this (new) updater. */
  onRecord(listener: (record: SelfUpdateRecord) => void): void;
  /**
   * Tell the supervisor why this updater could not start (`StartFailureReport`): the error
   * body, `{ code, message, ...details }`. Resolves once it is sent, so the process may exit.
   */
  reportStartFailure(error: Record<string, unknown>): Promise<void>;
}

/** The channel, or null when this updater runs on its own (no `--self-dir` supervisor). */
export function supervisorChannel(): SupervisorChannel | null {
  if (typeof process.send !== 'function' || !process.connected) return null;
  return {
    requestSwitch: (release) => {
      process.send?.(selfUpdateRequest(release));
    },
    onRecord: (listener) => {
      process.on('message', (message: unknown) => {
        if (isSelfUpdateRecordMessage(message)) listener(message.record);
      });
    },
    reportStartFailure: (error) =>
      new Promise((resolve) => {
        // The callback runs once the message is written, or with the error if it cannot be.
        if (process.send) process.send(startFailureReport(error), () => resolve());
        else resolve();
      }),
  };
}
