import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * When the proxy cuts a connection: after forwarding `afterClientBytes` bytes of the client's
 * stream (mid-upload), or — `dropAnswer` — as soon as the server sends anything once the
 * client has sent `dropAnswer` bytes and then gone quiet for {@link ANSWER_QUIET_MS} (the
 * answer of a request the server fully received). The quiet time tells the answer apart from
 * TLS records a server may send while the upload is still going (a TLS 1.3 session ticket
 * that Node 24 sent late, mid-upload, was taken for the answer, and the upload cut).
 */
export interface CutPlan {
  readonly afterClientBytes?: number;
  readonly dropAnswer?: number;
}

/** A TCP proxy in front of an updater: TLS passes through untouched, end to end. */
export interface CuttingProxy {
  readonly port: number;
  /** The plan for the next connections (null: forward everything). */
  plan(plan: CutPlan | null): void;
  /** Connections cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

/**
 * A node:net proxy to 127.0.0.1:`target` that forwards both directions and, following its
 * plan, cuts a connection the way a dying link or a NAT timeout does: both sockets destroyed
 * at once (the peers see a reset or a premature close), nothing more forwarded.
 */
const ANSWER_QUIET_MS = 50;

export async function startCuttingProxy(target: number): Promise<CuttingProxy> {
  let current: CutPlan | null = null;
  let cuts = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    const plan = current;
    const upstream = connect(target, '127.0.0.1');
    open.add(client).add(upstream);
    let sent = 0;
    let lastClientData = 0;
    const cut = () => {
      cuts += 1;
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      const limit = plan?.afterClientBytes;
      if (limit !== undefined && sent + chunk.length >= limit) {
        upstream.write(chunk.subarray(0, limit - sent), cut);
        sent = limit;
        client.pause();
        return;
      }
      sent += chunk.length;
      lastClientData = performance.now();
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      const quiet = performance.now() - lastClientData >= ANSWER_QUIET_MS;
      if (plan?.dropAnswer !== undefined && sent >= plan.dropAnswer && quiet) {
        cut();
        return;
      }
      client.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        open.delete(s);
        (s === client ? upstream : client).destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    plan: (plan) => {
      current = plan;
    },
    get cuts() {
      return cuts;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}
