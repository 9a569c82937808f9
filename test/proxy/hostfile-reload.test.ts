import assert from 'node:assert/strict';
import { once } from 'node:events';
import { renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HostfileError, InvalidOptionError } from '../../src/errors.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import type { ProxyStatusJson } from '../../src/proxy/status-page/proxy-status.js';
import {
  proxyUrlOf,
  send,
  spawnProxy,
  startTestProxy,
  startUpstream,
  temporaryDirectory,
  writeHostfile,
} from './proxy-test-helpers.js';

const SAFETY = { timeout: 30_000 };

function line(port: number, tags = ''): string {
  return `127.0.0.1\t${port}${tags === '' ? '' : `\t${tags}`}\n`;
}

async function status(proxyUrl: string): Promise<ProxyStatusJson> {
  return JSON.parse((await send(proxyUrl, '/status')).text) as ProxyStatusJson;
}

async function hostPorts(proxyUrl: string): Promise<number[]> {
  const body = JSON.parse((await send(proxyUrl, '/hosts')).text) as {
    hosts: Array<{ port: number }>;
  };
  return body.hosts.map((host) => host.port);
}

describe('hostfile reload', () => {
  test(
    'reload() re-reads the hostfile: indices follow the new file, kept agents keep their state',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 3 });
      t.after(() => swarm.close());
      const [a, b, c] = swarm.agents.map((agent) => agent.port) as [number, number, number];
      const path = writeHostfile(t, line(a) + line(b));
      const proxy = await startTestProxy(t, [], {
        endpoints: undefined,
        hostfile: path,
        watchHostfile: false,
        healthIntervalSeconds: 3600,
        unhealthyThreshold: 1,
      });
      await proxy.checkHealth();
      await swarm.agents[1]!.stop();
      await proxy.checkHealth();
      assert.equal((await send(proxy.url, '/agent/0/v1/models')).status, 200);

      writeFileSync(path, line(c, 'role=new') + line(b) + line(a));
      const endpoints = await proxy.reload();
      assert.deepEqual(
        endpoints.map((endpoint) => endpoint.port),
        [c, b, a],
      );
      assert.deepEqual(
        proxy.endpoints.map((endpoint) => endpoint.port),
        [c, b, a],
      );
      assert.deepEqual(await hostPorts(proxy.url), [c, b, a]);
      assert.ok(
        proxy.logLines.some((logLine) =>
          logLine.endsWith(
            `[INFO] aurora_swarm.proxy: Reloaded hostfile — 3 agent(s) (1 added, 0 removed, 2 kept) from ${path}\n`,
          ),
        ),
      );
      const current = await status(proxy.url);
      assert.equal(current.agents, 3);
      assert.deepEqual(current.endpoints[0]?.tags, { role: 'new' });
      assert.equal(current.endpoints[1]?.healthy, false, 'b keeps its health');
      assert.equal(current.endpoints[2]?.requests, 1, 'a keeps its counters at its new index');
      const answer = await send(proxy.url, '/agent/0/v1/chat/completions', {
        method: 'POST',
        headers: [['Content-Type', 'application/json']],
        body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.match(answer.text, /Agent 2 /, '/agent/0 is now the agent of the new first line');
      const outOfRange = await send(proxy.url, '/agent/3/x');
      assert.deepEqual(JSON.parse(outOfRange.text), { error: 'agent index 3 out of range [0, 3)' });
    },
  );

  test(
    'a malformed or empty new hostfile is rejected with a logged error; the old list stays',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2 });
      t.after(() => swarm.close());
      const [a, b] = swarm.agents.map((agent) => agent.port) as [number, number];
      const path = writeHostfile(t, line(a) + line(b));
      const proxy = await startTestProxy(t, [], {
        endpoints: undefined,
        hostfile: path,
        watchHostfile: false,
      });

      writeFileSync(path, `${line(a)}compute-002\tnotaport\n`);
      await assert.rejects(proxy.reload(), (error: unknown) => {
        assert.ok(error instanceof HostfileError);
        assert.equal(error.code, 'ERR_HOSTFILE_SYNTAX');
        assert.ok(error.message.startsWith(`${path}:2: `), error.message);
        return true;
      });
      assert.ok(
        proxy.logLines.some((logLine) =>
          logLine.includes(
            `[ERROR] aurora_swarm.proxy: Hostfile reload rejected, keeping the 2 agent(s) already loaded: ${path}:2: `,
          ),
        ),
      );
      assert.deepEqual(await hostPorts(proxy.url), [a, b]);

      writeFileSync(path, '# all agents gone?\n');
      await assert.rejects(proxy.reload(), { code: 'ERR_HOSTFILE_EMPTY' });
      assert.ok(
        proxy.logLines.some((logLine) =>
          logLine.includes(
            `keeping the 2 agent(s) already loaded: No endpoints found in hostfile ${path}`,
          ),
        ),
      );
      assert.deepEqual(await hostPorts(proxy.url), [a, b]);
      assert.equal((await send(proxy.url, '/agent/1/v1/models')).status, 200);
      assert.match(
        (await send(proxy.url, '/metrics')).text,
        /^aurora_swarm_proxy_hostfile_reloads_total\{result="rejected"\} 2$/m,
      );
    },
  );

  test('a request in flight to a removed agent finishes', SAFETY, async (t) => {
    const held: ServerResponse[] = [];
    const leaving = await startUpstream(t, (_request, response) => held.push(response));
    const staying = await startUpstream(t, (_request, response) => response.end('staying'));
    const path = writeHostfile(t, line(leaving.port) + line(staying.port));
    const proxy = await startTestProxy(t, [], {
      endpoints: undefined,
      hostfile: path,
      watchHostfile: false,
    });
    const arrived = once(leaving.events, 'request');
    const inFlight = send(proxy.url, '/agent/0/slow');
    await arrived;
    writeFileSync(path, line(staying.port));
    await proxy.reload();
    assert.equal((await send(proxy.url, '/agent/0/x')).text, 'staying');
    held.shift()?.end('finished anyway');
    const response = await inFlight;
    assert.equal(response.status, 200);
    assert.equal(response.text, 'finished anyway');
    const current = await status(proxy.url);
    assert.equal(current.agents, 1);
    assert.equal(current.in_flight, 0);
  });

  test(
    "a removed agent's pooled connections close: idle ones at the reload, busy ones as their request ends",
    SAFETY,
    async (t) => {
      const held: Array<{ request: IncomingMessage; response: ServerResponse }> = [];
      const leaving = await startUpstream(t, (request, response) =>
        held.push({ request, response }),
      );
      const staying = await startUpstream(t, (_request, response) => response.end('staying'));
      const path = writeHostfile(t, line(leaving.port) + line(staying.port));
      const proxy = await startTestProxy(t, [], {
        endpoints: undefined,
        hostfile: path,
        watchHostfile: false,
      });
      // Two requests at once: two connections to the leaving agent.
      let arrivals = 0;
      const bothArrived = new Promise<void>((resolve) => {
        // Emitted before the handler runs: held has them both by the next tick.
        leaving.events.on('request', () => ++arrivals === 2 && process.nextTick(resolve));
      });
      const first = send(proxy.url, '/agent/0/first');
      const second = send(proxy.url, '/agent/0/second');
      await bothArrived;
      const [idle, busy] = held as [(typeof held)[0], (typeof held)[0]];
      assert.notEqual(idle.request.socket, busy.request.socket);
      idle.response.end('idle now');
      assert.equal((await Promise.race([first, second])).text, 'idle now');
      const idleClosed = once(idle.request.socket, 'close');
      let busyClosed = false;
      const busyClose = once(busy.request.socket, 'close').then(() => {
        busyClosed = true;
      });
      writeFileSync(path, line(staying.port));
      await proxy.reload();
      await idleClosed;
      assert.equal(busyClosed, false, 'the busy connection is left to finish its request');
      busy.response.end('finished anyway');
      assert.equal(
        (await Promise.all([first, second])).map((answer) => answer.text).sort()[0],
        'finished anyway',
      );
      await busyClose;
      assert.equal((await status(proxy.url)).in_flight, 0);
    },
  );

  test(
    'a change on disk reloads, rename-replace included; identical content does not',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 3 });
      t.after(() => swarm.close());
      const [a, b, c] = swarm.agents.map((agent) => agent.port) as [number, number, number];
      const directory = temporaryDirectory(t);
      const path = join(directory, 'hostfile.txt');
      writeFileSync(path, line(a));
      const proxy = await startTestProxy(t, [], { endpoints: undefined, hostfile: path });

      let mark = proxy.logLines.length;
      writeFileSync(path, line(a) + line(b));
      await proxy.waitForLog(/Reloaded hostfile — 2 agent\(s\)/, mark);
      assert.deepEqual(await hostPorts(proxy.url), [a, b]);

      // Editors write a new file and rename it over the old one.
      mark = proxy.logLines.length;
      const temporary = join(directory, '.hostfile.txt.swp');
      writeFileSync(temporary, line(c) + line(b) + line(a));
      renameSync(temporary, path);
      await proxy.waitForLog(/Reloaded hostfile — 3 agent\(s\)/, mark);
      assert.deepEqual(await hostPorts(proxy.url), [c, b, a]);

      // And the watch still works on the new file.
      mark = proxy.logLines.length;
      writeFileSync(path, `${line(c)}oops\t\tbad port\n`);
      await proxy.waitForLog(
        /Hostfile reload rejected, keeping the 3 agent\(s\) already loaded: .*:2: /,
        mark,
      );
      mark = proxy.logLines.length;
      writeFileSync(path, line(c));
      await proxy.waitForLog(/Reloaded hostfile — 1 agent\(s\)/, mark);
      assert.deepEqual(await hostPorts(proxy.url), [c]);
      const reloads = proxy.logLines.filter((logLine) =>
        logLine.includes('Reloaded hostfile'),
      ).length;
      assert.equal(reloads, 3);
    },
  );

  test(
    'reload(endpoints) replaces a list given in code; reload() needs a hostfile',
    SAFETY,
    async (t) => {
      const swarm = await startMockSwarm({ count: 2 });
      t.after(() => swarm.close());
      const proxy = await startTestProxy(t, [swarm.endpoints[0]!]);
      await assert.rejects(proxy.reload(), InvalidOptionError);
      await proxy.reload([swarm.endpoints[1]!, swarm.endpoints[0]!]);
      assert.deepEqual(await hostPorts(proxy.url), [swarm.agents[1]!.port, swarm.agents[0]!.port]);
      await assert.rejects(proxy.reload([]), InvalidOptionError);
      assert.equal(proxy.endpoints.length, 2);
    },
  );

  test('SIGHUP makes the real proxy process reload its hostfile', SAFETY, async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const [a, b] = swarm.agents.map((agent) => agent.port) as [number, number];
    const path = writeHostfile(t, line(a));
    const proxy = spawnProxy(t, [
      '-f',
      path,
      '--host',
      '127.0.0.1',
      '-p',
      '0',
      '--no-watch',
      '--health-interval',
      '0',
    ]);
    const url = await proxyUrlOf(proxy);
    writeFileSync(path, line(b) + line(a));
    proxy.child.kill('SIGHUP');
    await proxy.waitForLine(
      /\[INFO\] aurora_swarm\.proxy: Received SIGHUP: reloading the hostfile$/,
    );
    await proxy.waitForLine(
      /\[INFO\] aurora_swarm\.proxy: Reloaded hostfile — 2 agent\(s\) \(1 added, 0 removed, 1 kept\)/,
    );
    assert.deepEqual(await hostPorts(url), [b, a]);

    writeFileSync(path, 'compute-1\t80o0\n');
    proxy.child.kill('SIGHUP');
    await proxy.waitForLine(
      /\[ERROR\] aurora_swarm\.proxy: Hostfile reload rejected, keeping the 2 agent\(s\) already loaded: .*:1: /,
    );
    assert.deepEqual(await hostPorts(url), [b, a]);
    proxy.child.kill('SIGTERM');
    assert.equal(await proxy.exited, 0);
  });
});
