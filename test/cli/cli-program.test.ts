/** The CLI run in-process with a scripted io: nothing exits, every outcome is an exit code. */
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { describe, test } from 'node:test';
import type { CliIo } from '../../src/cli/cli-io.js';
import { runAuroraSwarm, runAuroraSwarmProxy } from '../../src/cli/program.js';
import { startMockSwarm } from '../../src/mock/mock-swarm.js';
import {
  open,
  parseStartupLine,
  responseFailure,
  send,
  startUpstream,
  writeHostfile,
} from '../proxy/proxy-test-helpers.js';

function scriptedIo(env: Record<string, string> = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const signals = new EventEmitter();
  const io: CliIo = {
    stdout: (text) => stdout.push(text),
    stderr: (text) => {
      stderr.push(text);
      signals.emit('stderr', text);
    },
    env,
    onSignal: (handler) => {
      signals.on('signal', handler);
      return () => signals.off('signal', handler);
    },
  };
  return {
    io,
    stdout: () => stdout.join(''),
    stderrLines: () => stderr.join('').split('\n').filter(Boolean),
    signal: (name: NodeJS.Signals) => signals.emit('signal', name),
    nextStderr: () => once(signals, 'stderr').then(([text]) => text as string),
  };
}

describe('CLI in-process', () => {
  test('bad flag values exit 2 with one log-format ERROR line quoting flag and value', async (t) => {
    const hostfile = writeHostfile(t, 'compute-001\t8000\n');
    const cases: Array<[string[], RegExp]> = [
      [['--port', 'abc'], /invalid value "abc" for --port: expected an integer from 0 to 65535/],
      [['--port', '70000'], /"70000" for --port/],
      [['-p', '-1'], /"-1" for --port/],
      [['--timeout', '-1'], /"-1" for --timeout: expected a positive number of seconds/],
      [['-t', '0'], /"0" for --timeout/],
      [['--timeout', 'soon'], /"soon" for --timeout/],
      [['--connector-limit', '0'], /"0" for --connector-limit/],
      [['--connector-limit', 'many'], /"many" for --connector-limit/],
      [
        ['--log-level', 'LOUD'],
        /"LOUD" for --log-level: expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL/,
      ],
      [['--max-timeout', '1', '--timeout', '5'], /--max-timeout/],
      [['--bogus'], /unknown option '--bogus'/],
      [['--port'], /--port/],
      [['extra-argument'], /too many arguments|unknown command|excess/i],
    ];
    for (const [args, pattern] of cases) {
      const run = scriptedIo();
      const exitCode = await runAuroraSwarmProxy(['-f', hostfile, ...args], run.io);
      assert.equal(exitCode, 2, args.join(' '));
      const lines = run.stderrLines();
      assert.equal(lines.length, 1, lines.join('\n'));
      assert.match(
        lines[0] ?? '',
        /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \[ERROR\] aurora_swarm\.proxy: /,
      );
      assert.match(lines[0] ?? '', pattern);
    }
  });

  test('help and version exit 0 on stdout, for both programs', async () => {
    const proxyHelp = scriptedIo();
    assert.equal(await runAuroraSwarmProxy(['--help'], proxyHelp.io), 0);
    assert.match(proxyHelp.stdout(), /Usage: aurora-swarm-proxy/);
    const subcommandHelp = scriptedIo();
    assert.equal(await runAuroraSwarm(['proxy', '--help'], subcommandHelp.io), 0);
    assert.match(subcommandHelp.stdout(), /Usage: aurora-swarm proxy/);
    for (const flag of [
      '--hostfile',
      '--host',
      '--port',
      '--connector-limit',
      '--timeout',
      '--log-level',
    ]) {
      assert.ok(subcommandHelp.stdout().includes(flag), flag);
    }
    const version = scriptedIo();
    assert.equal(await runAuroraSwarm(['--version'], version.io), 0);
    assert.match(version.stdout(), /^\d+\.\d+\.\d+/);
  });

  test('runs until a signal, then shuts down and resolves 0', { timeout: 30_000 }, async (t) => {
    const swarm = await startMockSwarm({ count: 2 });
    t.after(() => swarm.close());
    const hostfile = writeHostfile(t, swarm.hostfileText);
    const run = scriptedIo({ AURORA_SWARM_HOSTFILE: hostfile });
    const started = run.nextStderr();
    const exited = runAuroraSwarm(['proxy', '--host', '127.0.0.1', '--port', '0'], run.io);
    const line = (await started).trimEnd();
    const url = `http://127.0.0.1:${parseStartupLine(line).port}`;
    assert.equal((await send(url, '/agent/1/v1/models')).status, 200);
    run.signal('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(run.stderrLines().at(-1) ?? '', /\[INFO\] aurora_swarm\.proxy: Proxy shut down$/);
  });

  test('proxy: a signal during startup is acted upon once it is up; a second signal cuts in-flight requests', {
    timeout: 30_000,
  }, async (t) => {
    const upstream = await startUpstream(t, () => undefined); // never answers
    const hostfile = writeHostfile(t, `127.0.0.1\t${upstream.port}\n`);
    const args = ['proxy', '-f', hostfile, '--host', '127.0.0.1', '--port', '0'];

    const early = scriptedIo();
    const listening = new Promise<void>((resolve) => {
      const onSignal = early.io.onSignal;
      early.io.onSignal = (handler) => {
        const stop = onSignal(handler);
        resolve();
        return stop;
      };
    });
    const earlyExit = runAuroraSwarm(args, early.io);
    await listening; // the proxy is still starting: the signal must not be lost
    early.signal('SIGINT');
    assert.equal(await earlyExit, 0);
    const lines = early.stderrLines();
    assert.ok(
      lines.some((line) => /Proxy started/.test(line)),
      lines.join('\n'),
    );
    assert.ok(lines.some((line) => /Received SIGINT: shutting down$/.test(line)));

    const run = scriptedIo();
    const started = run.nextStderr();
    const exited = runAuroraSwarm([...args, '--shutdown-grace', '600'], run.io);
    const url = `http://127.0.0.1:${parseStartupLine((await started).trimEnd()).port}`;
    const arrived = once(upstream.events, 'request');
    const { response } = open(url, '/agent/0/v1/chat/completions', { method: 'POST', body: '{}' });
    const failed = response.then(
      (answer) => responseFailure(answer),
      () => undefined,
    );
    await arrived;
    run.signal('SIGTERM');
    run.signal('SIGTERM');
    // Without the second signal the request would hold the shutdown for 600 s.
    assert.equal(await exited, 0);
    await failed;
    const stderr = run.stderrLines();
    assert.ok(stderr.some((line) => /Received SIGTERM: shutting down$/.test(line)));
    assert.ok(
      stderr.some((line) =>
        /\[WARNING\] .*Received SIGTERM again: cutting in-flight requests now$/.test(line),
      ),
      stderr.join('\n'),
    );
  });
});
