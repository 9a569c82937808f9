/** A free TCP port on 127.0.0.1 (bound then released; fine for a benchmark). */
import { once } from 'node:events';
import { createServer } from 'node:net';

/** Ask the kernel for a free port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

/** Hostfile text listing agents on 127.0.0.1 at `ports` (host, tab, port; one a line). */
export function loopbackHostfile(ports: readonly number[]): string {
  return ports.map((port) => `127.0.0.1\t${port}\n`).join('');
}
