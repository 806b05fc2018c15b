/** Options of {@link systemdUnit}: how this worker's `swarm updater` is started. */
export interface SystemdUnitOptions {
  /** Absolute paths of node and of the swarm bin. */
  readonly node: string;
  readonly swarm: string;
  /** The `swarm updater` arguments (absolute paths). */
  readonly args: readonly string[];
}

/**
 * The systemd unit of the supervisor (wiki/reference/guarantees.md#requirements-and-installation, wiki/operations.md). `Restart=always`
 * brings the supervisor back whatever happens to it — except exit status 2, a refusal to start
 * (a configuration error, or another live updater owns the install directory: wiki/reference/guarantees.md#one-operation-at-a-time),
 * which restarting cannot fix (`RestartPreventExitStatus=2`: the unit shows failed, with the
 * error in its log, instead of looking alive); `KillMode=process` stops only the
 * supervisor on stop/restart — it stops its updater itself, and the agent, in its own
 * process group, keeps serving until the next updater adopts it.
 */
export function systemdUnit(options: SystemdUnitOptions): string {
  const quote = (s: string) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `"${s.replace(/(["\\])/g, '\\$1')}"`);
  return `# swarm updater: the supervisor (bootloader) that runs the updater from its self directory.
# Install: save as /etc/systemd/system/swarm-updater.service, then
#   systemctl daemon-reload && systemctl enable --now swarm-updater
[Unit]
Description=swarm updater (supervisor): receives releases from the swarm master over mTLS
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart=${[options.node, options.swarm, 'updater', ...options.args].map(quote).join(' ')}
Restart=always
RestartSec=2
# Exit status 2 is a refusal to start (a configuration error, or another updater owns the
# install directory): restarting cannot fix it, so the unit stays failed with the error logged.
RestartPreventExitStatus=2
# Stop only the supervisor: it stops the updater gracefully, and the agent (own process
# group) keeps running across updater restarts and upgrades; the next updater adopts it.
KillMode=process
TimeoutStopSec=30
UMask=0077
NoNewPrivileges=yes

[Install]
WantedBy=multi-user.target
`;
}
