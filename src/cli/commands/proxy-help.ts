/**
 * The text `aurora-swarm-proxy --help` prints after the flags: the routes (from the
 * proxy's one route table, src/proxy/route-table.ts), per-request overrides,
 * reloading and examples.
 */
import { ROUTE_TABLE } from '../../proxy/route-table.js';

const METHOD_WIDTH = 5;
const PATH_WIDTH = 26;

/** The `Routes:` section: one row per route, continuation lines aligned under the text. */
export function formatRoutesHelp(): string {
  const indent = ' '.repeat(2 + METHOD_WIDTH + PATH_WIDTH);
  const lines = ROUTE_TABLE.flatMap(({ method, path, help }) =>
    help.map((text, line) =>
      line === 0
        ? `  ${method.padEnd(METHOD_WIDTH)}${path.padEnd(PATH_WIDTH)}${text}`
        : `${indent}${text}`,
    ),
  );
  return `Routes:\n${lines.join('\n')}`;
}

/** Everything `--help` shows after the flags. */
export const PROXY_HELP_AFTER = `
${formatRoutesHelp()}

Per request, the X-Timeout header (seconds) overrides --timeout.
The hostfile is reloaded when it changes and on SIGHUP (kill -HUP <pid>, or
kill -HUP $(cat PATH) with --pid-file PATH).
Requests whose Host is not a name of this proxy, and requests from web pages of other
origins, are refused with 403 (--allow-host, --allow-origin add names and origins).

Examples:
  $ aurora-swarm-proxy --hostfile hostfile.txt
  $ AURORA_SWARM_HOSTFILE=hostfile.txt aurora-swarm-proxy --host 127.0.0.1 --port 9090
  $ ssh -fNL 9090:localhost:9090 user@hpc-login-node     # on your laptop
  $ aurora-swarm-proxy --hostfile hostfile.txt --unix ~/.aurora-swarm/proxy.sock   # only you can connect
  $ ssh -fNL 9090:/home/me/.aurora-swarm/proxy.sock user@hpc-login-node             # on your laptop
  $ aurora-swarm-proxy --hostfile hostfile.txt --host 127.0.0.1 --token auto --pid-file proxy.pid
  $ curl http://localhost:9090/agent/0/v1/models
  $ curl http://localhost:9090/v1/chat/completions -H 'Content-Type: application/json' \\
      -d '{"model": "my-model", "messages": [{"role": "user", "content": "Hi"}]}'

Documentation: docs/proxy.md, docs/security.md`;
