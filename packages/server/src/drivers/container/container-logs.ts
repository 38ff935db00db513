import { Writable } from 'node:stream';
import type { DriverLogger } from '@gantry/driver-api';
import type Docker from 'dockerode';

const MAX_LINE = 16_384;

/**
 * Streams a container's output, line by line, into the deployment's log while the deployment runs.
 * The engine keeps the container's own log (`docker logs <name>`) for what comes after.
 * Never waits for the stream: podman answers a follow of a container that has written nothing yet
 * only with its first line, so awaiting it would hold the deployment until the app logs.
 * Returns a function that stops following; it resolves once the lines seen so far were written.
 */
export function followLogs(
  docker: Docker,
  id: string,
  name: string,
  logger: DriverLogger,
): () => Promise<void> {
  const ac = new AbortController();
  let stopped = false;
  let stream: (NodeJS.ReadableStream & { destroy?: () => void }) | null = null;
  const out = lineWriter((line) => logger.info(`${name}: ${line}`, { container: name, stream: 'stdout' }));
  const err = lineWriter((line) => logger.info(`${name}: ${line}`, { container: name, stream: 'stderr' }));
  void docker
    .getContainer(id)
    .logs({
      follow: true,
      stdout: true,
      stderr: true,
      abortSignal: ac.signal,
    } as Docker.ContainerLogsOptions & {
      follow: true;
    })
    .then((opened) => {
      const s = opened as unknown as NodeJS.ReadableStream & { destroy?: () => void };
      s.on('error', () => undefined);
      if (stopped) return s.destroy?.();
      stream = s;
      docker.modem.demuxStream(s, out, err);
    })
    .catch((e: unknown) => {
      if (!stopped) logger.warn(`cannot follow the logs of container ${name}: ${(e as Error).message}`);
    });
  return async () => {
    stopped = true;
    if (stream) {
      // Lines already in flight arrive within a moment; the follow itself never ends by itself.
      await new Promise((r) => setTimeout(r, 100));
      stream.removeAllListeners('data');
      stream.destroy?.();
    } else {
      ac.abort();
      // The follow never opened (podman answers it only after the container's first output, and
      // late under load): take what the container wrote so far in one read instead.
      const written = await docker
        .getContainer(id)
        .logs({ stdout: true, stderr: true, follow: false })
        .catch(() => null);
      if (written) writeFrames(Buffer.from(written as unknown as Uint8Array), out, err);
    }
    out.end();
    err.end();
  };
}

/** Docker's multiplexed log format: 8-byte headers (1 stdout, 2 stderr; big-endian length). */
function writeFrames(buf: Buffer, out: Writable, err: Writable): void {
  let at = 0;
  while (at + 8 <= buf.length) {
    const kind = buf[at];
    const size = buf.readUInt32BE(at + 4);
    const body = buf.subarray(at + 8, at + 8 + size);
    (kind === 2 ? err : out).write(body);
    at += 8 + size;
  }
}

function lineWriter(onLine: (line: string) => void): Writable {
  let pending = '';
  const flush = (all: boolean) => {
    const lines = pending.split('\n');
    pending = all ? '' : (lines.pop() ?? '');
    for (const line of lines) if (line.length) onLine(line.slice(0, MAX_LINE));
    if (pending.length > MAX_LINE) {
      onLine(`${pending.slice(0, MAX_LINE)} … [line cut]`);
      pending = '';
    }
  };
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      pending += chunk.toString('utf8');
      flush(false);
      done();
    },
    final(done) {
      flush(true);
      done();
    },
  });
}
