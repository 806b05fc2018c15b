/**
 * The error catalogue: every error swarm can raise, declared once.
 *
 * Codes are stable API (`SWARM_ERR_<AREA>_<WHAT>`): the master revives updater errors by
 * their code, operators grep logs for them, and `wiki/errors.md` documents each one — a
 * test keeps that page and this table in step both ways. Never rename a code; add a new one.
 */
export interface ErrorSpec {
  /** HTTP status when the error crosses the wire. */
  readonly status: number;
  /** Process exit code when the error ends a CLI command: 2 usage/configuration, 1 otherwise. */
  readonly exit: 1 | 2;
  /** Default message, used when the thrower gives none. */
  readonly message: string;
  /** What the operator should do about it. */
  readonly remedy: string;
}

export const catalogue = {
  // --- command line and configuration -------------------------------------------------
  SWARM_ERR_USAGE_INVALID: {
    status: 400,
    exit: 2,
    message: 'invalid command-line usage',
    remedy: 'Check the command with --help; the message names the flag at fault.',
  },
  SWARM_ERR_CONFIG_INVALID: {
    status: 500,
    exit: 2,
    message: 'invalid configuration',
    remedy: 'Fix every problem listed (flags, SWARM_* environment variables or the config file) and start again.',
  },

  // --- master home ----------------------------------------------------------------------
  SWARM_ERR_HOME_EXISTS: {
    status: 409,
    exit: 2,
    message: 'the master home already exists',
    remedy:
      'Use the existing home, choose another with --home, or pass --force to replace it (this discards the CA: every enrolled host must be enrolled again).',
  },
  SWARM_ERR_HOME_MISSING: {
    status: 404,
    exit: 2,
    message: 'no master home here',
    remedy: 'Run `swarm init` first, or point --home / SWARM_HOME at an existing master home.',
  },
  SWARM_ERR_HOME_INVALID: {
    status: 500,
    exit: 2,
    message: 'the master home is incomplete or unreadable',
    remedy:
      'Restore the master home from a backup (ca/, master/, registry.db), or re-create it with `swarm init --force` and enroll every host again.',
  },
  SWARM_ERR_HOME_UNWRITABLE: {
    status: 500,
    exit: 2,
    message: 'cannot create the master home',
    remedy:
      'Choose a --home (or SWARM_HOME) in a directory you can write, on a disk with free space; nothing was created.',
  },

  // --- hosts and enrollment -------------------------------------------------------------
  SWARM_ERR_HOST_NAME_INVALID: {
    status: 400,
    exit: 2,
    message: 'invalid host name',
    remedy:
      'Use 1-63 characters of lowercase letters, digits and inner hyphens (^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$).',
  },
  SWARM_ERR_HOST_NAME_RESERVED: {
    status: 400,
    exit: 2,
    message: 'the host name is reserved',
    remedy: 'Choose another name: `master` names the master identity and can never be a host.',
  },
  SWARM_ERR_HOST_EXISTS: {
    status: 409,
    exit: 2,
    message: 'a host of that name is already enrolled',
    remedy: 'Pick another name, or `swarm decommission --host NAME` first to re-enroll it.',
  },
  SWARM_ERR_HOST_UNKNOWN: {
    status: 404,
    exit: 2,
    message: 'no host of that name is enrolled',
    remedy: 'List the enrolled hosts with `swarm hosts`; enroll new ones with `swarm enroll`.',
  },
  SWARM_ERR_HOST_ADDRESS_INVALID: {
    status: 400,
    exit: 2,
    message: 'invalid host address',
    remedy: 'Give --address as a DNS name or an IPv4/IPv6 address, without scheme or port.',
  },
  SWARM_ERR_ENROLL_OUT_UNWRITABLE: {
    status: 500,
    exit: 2,
    message: 'cannot write the worker bundle',
    remedy: 'Point --out at a directory you can write that does not already hold a bundle; nothing was recorded.',
  },

  // --- PKI ------------------------------------------------------------------------------
  SWARM_ERR_PKI_CERT_INVALID: {
    status: 400,
    exit: 1,
    message: 'the certificate cannot be used',
    remedy: 'Check that the file is a PEM certificate issued by this master (`openssl x509 -text -in FILE`).',
  },
  SWARM_ERR_PKI_IDENTITY_INVALID: {
    status: 403,
    exit: 1,
    message: 'the certificate carries no valid swarm identity',
    remedy:
      'Certificates must carry exactly one spiffe://<trust-domain>/... URI SAN of this trust domain; re-issue it with `swarm enroll`.',
  },
  SWARM_ERR_BUNDLE_INVALID: {
    status: 500,
    exit: 2,
    message: 'the worker bundle is incomplete or inconsistent',
    remedy:
      'Copy the whole bundle directory written by `swarm enroll` (ca.crt, host.json, the .crt/.key pairs) to the worker.',
  },

  // --- registry -------------------------------------------------------------------------
  SWARM_ERR_REGISTRY_BUSY: {
    status: 503,
    exit: 1,
    message: 'the host registry is locked by another swarm command',
    remedy: 'Wait for the other command to finish and try again.',
  },
  SWARM_ERR_REGISTRY_SCHEMA: {
    status: 500,
    exit: 2,
    message: 'the host registry was written by a newer swarm',
    remedy: 'Upgrade swarm on this machine to the version that last wrote registry.db.',
  },
  SWARM_ERR_REGISTRY_INVALID: {
    status: 500,
    exit: 2,
    message: 'the host registry cannot be opened or migrated',
    remedy:
      'Check that registry.db is a readable SQLite file owned by you on a disk with free space; otherwise restore it from a backup.',
  },

  // --- authorization on the updater -----------------------------------------------------
  SWARM_ERR_AUTH_FORBIDDEN: {
    status: 403,
    exit: 1,
    message: 'this certificate role may not call this endpoint',
    remedy: 'Only the master identity (spiffe://<td>/master) may change a host; run the command from the master.',
  },

  // --- receiving an upload ---------------------------------------------------------------
  SWARM_ERR_UPLOAD_NOT_MULTIPART: {
    // 400, not 406: 406 Not Acceptable is about the Accept header (RFC 9110 §15.5.7); a body
    // of the wrong kind is a malformed request (wiki/remote-updates.md, "What the answers mean").
    status: 400,
    exit: 1,
    message: 'the request is not multipart/form-data',
    remedy: 'Send multipart/form-data with a sha256 field followed by a tarball file part.',
  },
  SWARM_ERR_UPLOAD_MALFORMED: {
    status: 400,
    exit: 1,
    message: 'the multipart body is malformed',
    remedy: 'Send a sha256 field, an optional size field, then exactly one tarball file part, and nothing else.',
  },
  SWARM_ERR_UPLOAD_DIGEST_MISSING: {
    status: 400,
    exit: 1,
    message: 'the sha256 field must come before the tarball part',
    remedy: 'Send the sha256 field (64 lowercase hex digits) before the tarball file part.',
  },
  SWARM_ERR_UPLOAD_DIGEST_INVALID: {
    status: 400,
    exit: 1,
    message: 'the sha256 field is not 64 hex digits',
    remedy: 'Send the SHA-256 of the tarball as 64 lowercase hex digits, as printed by `swarm pack`.',
  },
  SWARM_ERR_UPLOAD_FILE_MISSING: {
    status: 400,
    exit: 1,
    message: 'no tarball part in the upload',
    remedy: 'Send the release as a file part named tarball.',
  },
  SWARM_ERR_UPLOAD_TOO_LARGE: {
    status: 413,
    exit: 1,
    message: 'the upload exceeds the updater upload cap',
    remedy:
      'Make the release smaller, or raise the cap with `swarm updater --max-upload-bytes` (SWARM_MAX_UPLOAD_BYTES).',
  },
  SWARM_ERR_UPLOAD_INCOMPLETE: {
    status: 400,
    exit: 1,
    message: 'the upload ended before the tarball was complete',
    remedy: 'Retry the push; check the network between master and worker if it keeps happening.',
  },
  SWARM_ERR_UPLOAD_SIZE_MISMATCH: {
    status: 422,
    exit: 1,
    message: 'the tarball size differs from the declared size',
    remedy: 'The file changed or was truncated in transit; pack it again and push again.',
  },
  SWARM_ERR_UPLOAD_DIGEST_MISMATCH: {
    status: 422,
    exit: 1,
    message: 'the tarball digest differs from the declared sha256',
    remedy:
      'The tarball was corrupted or tampered with in transit; pack it again and push again. Nothing was installed.',
  },

  // --- release archives and manifests ---------------------------------------------------
  SWARM_ERR_ARCHIVE_UNSAFE: {
    status: 422,
    exit: 1,
    message: 'the archive contains an unsafe entry',
    remedy:
      'Build releases with `swarm pack`: only regular files, directories and symlinks that stay inside the release are accepted.',
  },
  SWARM_ERR_ARCHIVE_LIMIT: {
    status: 422,
    exit: 1,
    message: 'the archive exceeds an extraction limit',
    remedy:
      'Reduce the release (entries, total size, file size, path depth) or raise the updater limit named in the message.',
  },
  SWARM_ERR_ARCHIVE_INFLATION_RATIO: {
    status: 422,
    exit: 1,
    message: 'the archive inflates far more than a release does (a gzip bomb?)',
    remedy:
      'Releases built by `swarm pack` inflate about 3-6 times; if this one is genuine, raise --extract-max-inflation-ratio or --extract-inflation-floor-bytes (SWARM_EXTRACT_MAX_INFLATION_RATIO, SWARM_EXTRACT_INFLATION_FLOOR_BYTES) on the updater.',
  },
  SWARM_ERR_ARCHIVE_CORRUPT: {
    status: 422,
    exit: 1,
    message: 'the archive is not a valid gzipped tarball',
    remedy: 'Build the release with `swarm pack` and push the file it writes.',
  },
  SWARM_ERR_RELEASE_MANIFEST_MISSING: {
    status: 422,
    exit: 2,
    message: 'release.json is missing',
    remedy: 'Put a release.json at the root of the release tree (name, version, start).',
  },
  SWARM_ERR_RELEASE_MANIFEST_INVALID: {
    status: 422,
    exit: 2,
    message: 'release.json is invalid',
    remedy: 'Fix every problem listed in release.json (see the release format in wiki/remote-updates.md).',
  },
  SWARM_ERR_PACK_TREE_INVALID: {
    status: 400,
    exit: 2,
    message: 'the release tree cannot be packed',
    remedy: 'Point --tree at a readable directory containing release.json.',
  },
  SWARM_ERR_PACK_OUT_UNWRITABLE: {
    status: 500,
    exit: 2,
    message: 'cannot write the release tarball',
    remedy: 'Point -o at a file in a directory you can write, with enough free space; no tarball was written.',
  },
  SWARM_ERR_ARCHIVE_WRITE_FAILED: {
    status: 500,
    exit: 1,
    message: 'cannot write the extracted release',
    remedy:
      'Check free space, inodes and permissions of the install directory (the message names the path and the system error); nothing was activated.',
  },

  // --- release signatures (SPEC §12) -------------------------------------------------------
  SWARM_ERR_SIGNATURE_MISSING: {
    status: 422,
    exit: 1,
    message: 'the release is not signed, and this host requires a signature',
    remedy:
      'Sign the tarball with `swarm sign --key release.key --tarball F` (it writes F.sig, which swarm update sends), or publish with --sign.',
  },
  SWARM_ERR_SIGNATURE_INVALID: {
    status: 422,
    exit: 1,
    message: 'the release signature is malformed or does not verify',
    remedy:
      'Sign the tarball again with `swarm sign`; the envelope must be the DSSE JSON that swarm sign writes, unchanged.',
  },
  SWARM_ERR_SIGNATURE_UNTRUSTED: {
    status: 422,
    exit: 1,
    message: 'the release is signed by a key this host does not trust',
    remedy:
      "Sign with a key in the host's --trusted-keys, or add the signer's release.pub there first (key rotation: trust the new key everywhere, then sign with it).",
  },
  SWARM_ERR_SIGNATURE_MISMATCH: {
    status: 422,
    exit: 1,
    message: 'the signature is for another release',
    remedy: 'The signed statement names another digest, size, name or version: sign this very tarball (`swarm sign --tarball F`).',
  },
  SWARM_ERR_SIGNATURE_EXPIRED: {
    status: 422,
    exit: 1,
    message: 'the release signature has expired',
    remedy: 'Sign the release again (`swarm sign --expires DURATION`): an expired statement is refused so an old release cannot be replayed forever.',
  },

  // --- OCI registries and release artifacts ----------------------------------------------
  SWARM_ERR_REGISTRY_UNREACHABLE: {
    status: 502,
    exit: 1,
    message: 'the OCI registry could not be reached or kept failing',
    remedy:
      'Check that the registry is up and reachable from this machine (address, port, firewall, its TLS certificate: --registry-ca); swarm retried with back-off until --registry-timeout. Nothing was installed.',
  },
  SWARM_ERR_REGISTRY_NOT_FOUND: {
    status: 502,
    exit: 1,
    message: 'the OCI registry has no such repository, manifest or blob',
    remedy: 'Check the reference (registry, repository, tag or digest); publish the release with `swarm publish` first.',
  },
  SWARM_ERR_REGISTRY_DENIED: {
    status: 502,
    exit: 1,
    message: 'the OCI registry refused the credentials',
    remedy:
      'Give a login with pull (or push) rights for the repository in the --registry-auth file (a Docker config.json: auths.<host>.auth = base64 of user:password).',
  },
  SWARM_ERR_REGISTRY_PROTOCOL: {
    status: 502,
    exit: 1,
    message: 'the OCI registry answered outside the distribution protocol',
    remedy:
      'Check that the address is an OCI distribution (v2) registry and not a proxy or web server; the message says what it answered.',
  },
  SWARM_ERR_ARTIFACT_DIGEST_MISMATCH: {
    status: 422,
    exit: 1,
    message: 'content from the registry does not match its digest',
    remedy:
      'The registry or something between it and this host served other bytes than the digest names; nothing of it was used. Publish again, and check the registry and any cache in front of it.',
  },
  SWARM_ERR_ARTIFACT_INVALID: {
    status: 422,
    exit: 1,
    message: 'the artifact is not a swarm release',
    remedy:
      'Publish the release with `swarm publish` (an OCI manifest with artifactType application/vnd.swarm.release.v1 and the release tarball as its first layer); the message names what is wrong.',
  },
  SWARM_ERR_ARTIFACT_TOO_LARGE: {
    status: 413,
    exit: 1,
    message: 'the artifact layer exceeds the updater upload cap',
    remedy:
      'Make the release smaller, or raise the cap with `swarm updater --max-upload-bytes` (SWARM_MAX_UPLOAD_BYTES); the download was stopped at the cap.',
  },

  // --- applying a release on a worker ----------------------------------------------------
  SWARM_ERR_RELEASE_INSTALL_FAILED: {
    status: 409,
    exit: 1,
    message: 'the release install step failed; the release was not kept',
    remedy:
      'Read the install output in the error; fix the release (or its install command) and push again. The active release is unchanged.',
  },
  SWARM_ERR_RELEASE_PROBE_FAILED: {
    status: 409,
    exit: 1,
    message: 'the release failed its health probe and was rolled back',
    remedy:
      'Read the probe detail and agent output in the error; fix the release and push again. The previous release is running.',
  },
  SWARM_ERR_RELEASE_FIRST_FAILED: {
    status: 409,
    exit: 1,
    message: 'the first release of this host failed its health probe; no release is active',
    remedy: 'Read the probe detail and agent output; push a working release. The host runs no agent until then.',
  },
  SWARM_ERR_ROLLBACK_FAILED: {
    status: 500,
    exit: 1,
    message: 'the previous release did not come back healthy',
    remedy: 'The host needs attention: check logs/agent.log in the install directory, then push a known-good release.',
  },
  SWARM_ERR_ROLLBACK_NOTHING: {
    status: 404,
    exit: 1,
    message: 'there is no previous release to roll back to',
    remedy: 'Push the release you want with `swarm update` instead.',
  },
  SWARM_ERR_NOTHING_STAGED: {
    status: 404,
    exit: 1,
    message: 'no staged release has that digest',
    remedy:
      'Stage the release first (POST /stage), or push it with `swarm update`; `GET /health` shows what is staged.',
  },

  // --- the updater daemon ----------------------------------------------------------------
  SWARM_ERR_UPDATER_BUSY: {
    status: 423,
    exit: 1,
    message: 'another operation is in flight on this host',
    remedy: 'Wait for it to finish (see `swarm status`) and retry; swarm retries by itself after Retry-After.',
  },
  SWARM_ERR_UPDATER_LOCKED: {
    status: 423,
    exit: 2,
    message: 'another updater (or supervisor) already owns this install (or self) directory',
    remedy: 'Stop the other process (its PID is in the message), or use another --install-dir (--self-dir).',
  },
  SWARM_ERR_UPDATER_SHUTTING_DOWN: {
    status: 503,
    exit: 1,
    message: 'the updater is shutting down',
    remedy: 'Retry once the updater is back (it is restarted by its supervisor or systemd).',
  },
  SWARM_ERR_UPDATER_NOT_FOUND: {
    status: 404,
    exit: 1,
    message: 'no such endpoint',
    remedy: 'Check that master and updater speak the same protocol version (`swarm status`).',
  },
  SWARM_ERR_UPDATER_METHOD_NOT_ALLOWED: {
    status: 405,
    exit: 1,
    message: 'the endpoint does not take this method',
    remedy: 'Use a method the `Allow` header of the answer lists (e.g. POST /update, GET /health).',
  },
  SWARM_ERR_UPDATER_INTERNAL: {
    status: 500,
    exit: 1,
    message: 'the updater failed unexpectedly',
    remedy: 'Read `rolledBack` in the error for the host state and the updater log for the cause; retry the operation.',
  },
  SWARM_ERR_UPDATER_BAD_REQUEST: {
    status: 400,
    exit: 1,
    message: 'the updater could not understand the request',
    remedy:
      'Check that master and updater speak the same protocol version (`swarm status`); the message names what was wrong.',
  },
  SWARM_ERR_UPDATER_JOURNAL_INVALID: {
    status: 500,
    exit: 2,
    message: 'the journal state.json of the install directory is unreadable',
    remedy:
      'Restore state.json from a backup, or move it aside: the updater then starts with no active release and the next push installs one (see wiki/remote-updates.md).',
  },
  SWARM_ERR_UPDATER_JOURNAL_WRITE_FAILED: {
    status: 500,
    exit: 1,
    message: 'cannot write the journal state.json of the install directory',
    remedy:
      'Check the disk of the install directory (free space, inodes, permissions, I/O errors in the kernel log), then restart the updater: its recovery finishes or undoes the operation the journal could not close.',
  },

  // --- self-update -----------------------------------------------------------------------
  SWARM_ERR_SELF_UPDATE_FAILED: {
    status: 500,
    exit: 1,
    message: 'the new updater did not come up; the previous updater is running again',
    remedy: 'Read the reason in lastSelfUpdate (`swarm status`); fix the updater release and push again.',
  },
  SWARM_ERR_SELF_UPDATE_UNSUPPORTED: {
    status: 409,
    exit: 1,
    message: 'this updater was started without a self directory and cannot update itself',
    remedy: 'Start the updater with `swarm updater --self-dir DIR` (the systemd unit from --print-systemd-unit does).',
  },

  // --- the reference agent (packages/agent: it depends on pki only, so it writes these codes literally)
  SWARM_ERR_AGENT_NOT_FOUND: {
    status: 404,
    exit: 1,
    message: 'no such endpoint on the agent',
    remedy:
      "The reference agent serves GET /health (any certificate of the CA) and GET /version (master or the host's updater) only.",
  },
  SWARM_ERR_AGENT_LISTEN_FAILED: {
    status: 500,
    exit: 1,
    message: 'the agent cannot listen on its address',
    remedy:
      "Another process holds SWARM_AGENT_PORT, or --listen names an address this host does not have; free the port or change the host's agent port.",
  },
  SWARM_ERR_AGENT_FAULT_INJECTED: {
    status: 500,
    exit: 1,
    message: 'the agent failed on purpose (a test knob)',
    remedy:
      "Remove --fail-start / --exit-after-ms from the release's start command: they exist for the demo and the tests.",
  },

  // --- the master's client ---------------------------------------------------------------
  SWARM_ERR_CLIENT_UNREACHABLE: {
    status: 503,
    exit: 1,
    message: 'the host did not answer',
    remedy:
      'Check that the updater runs on the host and that its address and port (`swarm hosts`) are reachable from here.',
  },
  SWARM_ERR_CLIENT_TIMEOUT: {
    status: 504,
    exit: 1,
    message: 'the host did not answer in time',
    remedy: 'Check the host load and network; `swarm status` shows whether the updater is still busy.',
  },
  SWARM_ERR_CLIENT_CERT_REJECTED: {
    status: 495,
    exit: 1,
    message: 'the worker rejected our certificate',
    remedy:
      'The worker trusts another CA than this master home: check --home, or enroll the host again from this master.',
  },
  SWARM_ERR_CLIENT_PIN_MISMATCH: {
    status: 495,
    exit: 1,
    message: "the worker's certificate does not match its pin",
    remedy:
      'Something other than the enrolled updater answered. If the host was re-enrolled, install its new bundle; otherwise investigate before pushing.',
  },
  SWARM_ERR_CLIENT_PIN_MISSING: {
    status: 495,
    exit: 1,
    message: 'no certificate pin is recorded for this host',
    remedy: 'Enroll the host with `swarm enroll --updater` so its updater certificate is pinned.',
  },
  SWARM_ERR_CLIENT_BAD_RESPONSE: {
    status: 502,
    exit: 1,
    message: 'the worker answered something swarm does not understand',
    remedy:
      'Check that master and updater versions match (`swarm status`); upgrade the updater with `swarm update --include-self`.',
  },
  SWARM_ERR_CLIENT_CONNECTION_LOST: {
    status: 502,
    exit: 1,
    message: 'the connection to the worker broke before it answered',
    remedy:
      'The operation may or may not have been applied: check `swarm status` before retrying, and the updater log for a crash or restart.',
  },
  SWARM_ERR_ROLLOUT_SKIPPED: {
    status: 409,
    exit: 1,
    message: 'not attempted: the rollout stopped before reaching this host',
    remedy:
      'Fix what failed on the hosts before it, then run the rollout again; hosts already updated are reported up to date.',
  },
  SWARM_ERR_GATE_REFUSED: {
    status: 409,
    exit: 1,
    message: 'the --before-host gate refused the host',
    remedy: 'The gate command exited with a status other than 0 (go) or 75 (not now): read its output above, fix the host or the gate, and run the rollout again.',
  },
  SWARM_ERR_GATE_TIMEOUT: {
    status: 409,
    exit: 1,
    message: 'the --before-host gate kept saying "not now" (exit 75) past --gate-timeout',
    remedy: 'The host was not touched. Run the rollout again when the gate lets it go, or raise --gate-timeout.',
  },
  SWARM_ERR_HOOK_FAILED: {
    status: 409,
    exit: 1,
    message: 'the --after-host hook failed after the host was updated',
    remedy: 'The release stays active on the host: read the output of the hook above, finish by hand what it should have done (e.g. put the host back in the load balancer), and fix the hook.',
  },
  SWARM_ERR_ROLLOUT_INTERRUPTED: {
    status: 499,
    exit: 1,
    message: 'not attempted: the rollout was interrupted',
    remedy: 'Run the rollout again; hosts already updated are reported up to date.',
  },
} as const satisfies Record<string, ErrorSpec>;

/** Every error code swarm can raise. */
export type ErrorCode = keyof typeof catalogue;

/** True when `code` is one of ours. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(catalogue, code);
}
