/** `aurora-swarm demo` (which spawns the real proxy bin) and `aurora-swarm mock-agents`. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DEMO_PROMPTS } from '../../src/cli/commands/demo-command.js';
import { runAuroraSwarm } from '../../src/cli/program.js';
import { parseHostfileText } from '../../src/hostfile/parse-hostfile-text.js';
import { parseProxyStartedLine } from '../../src/proxy/server/listening.js';
import { MAIN_BIN, send, spawnProxy, temporaryDirectory } from '../proxy/proxy-test-helpers.js';
import { scriptedIo } from './cli-test-helpers.js';

const SAFETY = { timeout: 60_000 };
const execFileAsync = promisify(execFile);
const examplesDirectory = fileURLToPath(new URL('../../examples/', import.meta.url));

describe('aurora-swarm demo', { concurrency: true }, () => {
  test(
    "prints what it started, the commands by hand, and the seed's output; exits 0",
    SAFETY,
    async () => {
      const run = scriptedIo();
      assert.equal(await runAuroraSwarm(['demo'], run.io), 0, run.stderr());
      const output = run.stdout();
      assert.match(output, /4 simulated vLLM agent\(s\) listening on 127\.0\.0\.1:\d+/);
      assert.match(output, /hostfile: .*hostfile\.txt/);
      assert.match(
        output,
        /proxy: {4}http:\/\/127\.0\.0\.1:\d+ \(aurora-swarm-proxy, process \d+\)/,
      );
      assert.match(
        output,
        /aurora-swarm mock-agents --count 4 --base-port 8000 --hostfile hostfile\.txt/,
      );
      assert.match(
        output,
        /aurora-swarm-proxy --hostfile hostfile\.txt --host 127\.0\.0\.1 --port 9090/,
      );
      assert.match(output, /curl http:\/\/localhost:9090\/health/);
      DEMO_PROMPTS.forEach((prompt, index) => {
        const block = new RegExp(
          `--- Prompt ${index} \\(agent ${index}\\) ---\\nAgent ${index} \\(meta-llama/Llama-3\\.1-70B-Instruct\\) on "${prompt.slice(0, 20)}[^\\n]* \\.\\.\\.\\n`,
        );
        assert.match(output, block);
      });
      // The first 200 characters, then " ..." (Python's print(text[:200], "...")).
      const firstAnswer = output.split('--- Prompt 0 (agent 0) ---\n')[1]?.split('\n')[0] ?? '';
      assert.equal(firstAnswer.length, 204);
      assert.ok(
        run.stderrLines().some((line) => {
          const started = parseProxyStartedLine(line);
          return started?.host === '127.0.0.1' && started.agents === 4;
        }),
      );
      assert.ok(run.stderrLines().some((line) => /Proxy shut down/.test(line)));
    },
  );

  test(
    'the hints use the real --count and --port; the proxy log never interleaves with the answers',
    SAFETY,
    async () => {
      const blocker = createServer().listen(0, '127.0.0.1');
      await once(blocker, 'listening');
      const port = (blocker.address() as { port: number }).port;
      blocker.close();
      await once(blocker, 'close');
      const order: string[] = [];
      const run = scriptedIo();
      const io = {
        ...run.io,
        stdout: (text: string) => {
          order.push(`out ${text}`);
          run.io.stdout(text);
        },
        stderr: (text: string) => {
          order.push(`err ${text}`);
          run.io.stderr(text);
        },
      };
      assert.equal(
        await runAuroraSwarm(['demo', '--count', '3', '--port', String(port)], io),
        0,
        run.stderr(),
      );
      const output = run.stdout();
      assert.match(
        output,
        /aurora-swarm mock-agents --count 3 --base-port 8000 --hostfile hostfile\.txt/,
      );
      assert.match(
        output,
        new RegExp(
          `aurora-swarm-proxy --hostfile hostfile\\.txt --host 127\\.0\\.0\\.1 --port ${port}`,
        ),
      );
      assert.match(output, new RegExp(`curl http://localhost:${port}/health`));
      // Between the first answer and the last, nothing from the proxy.
      const first = order.findIndex((entry) => entry.startsWith('out --- Prompt 0'));
      const last = order.findIndex((entry) => entry.startsWith('out --- Prompt 3'));
      assert.ok(first > 0 && last > first);
      assert.deepEqual(
        order.slice(first, last + 2).filter((entry) => entry.startsWith('err ')),
        [],
      );
    },
  );

  test(
    '--keep leaves the swarm and the proxy running until Ctrl-C; the printed commands work',
    SAFETY,
    async (t) => {
      const demo = spawnProxy(t, ['demo', '--keep'], { bin: MAIN_BIN });
      await demo.waitForLine(/Proxy started/);
      // The answers and the --keep commands are on stdout; wait for the last of them.
      while (!/Ctrl-C stops them/.test(demo.stdout()) || !/status page/.test(demo.stdout())) {
        await once(demo.child.stdout!, 'data');
      }
      const output = demo.stdout();
      assert.doesNotMatch(output, /Shutting down/);
      const proxyUrl = /curl (http:\/\/127\.0\.0\.1:\d+)\/health/.exec(output)?.[1];
      assert.ok(proxyUrl, output);
      assert.equal((await send(proxyUrl, '/health')).status, 200);
      assert.equal((await send(proxyUrl, '/agent/3/v1/models')).status, 200);
      const status = scriptedIo();
      assert.equal(await runAuroraSwarm(['status', '--proxy', proxyUrl], status.io), 0);
      assert.match(status.stdout(), /4 agent\(s\)/);
      demo.child.kill('SIGINT');
      assert.equal(await demo.exited, 0);
      assert.match(demo.stdout(), /Shutting down\.\n$/);
    },
  );

  test('the proxy port in use: one line naming it, exit 1', SAFETY, async (t) => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    t.after(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    const run = scriptedIo();
    assert.equal(await runAuroraSwarm(['demo', '--port', String(port)], run.io), 1);
    const errors = run.stderrLines().filter((line) => line.startsWith('aurora-swarm demo: error:'));
    assert.equal(errors.length, 1);
    assert.match(
      errors[0] ?? '',
      new RegExp(
        `the proxy exited \\(code 1\\) before it started: Address already in use.*${port}`,
      ),
    );
  });
});

describe('aurora-swarm mock-agents', { concurrency: true }, () => {
  test(
    'writes the hostfile, says where it listens, serves vLLM routes, stops on SIGTERM',
    SAFETY,
    async (t) => {
      const hostfile = join(temporaryDirectory(t), 'hostfile.txt');
      const run = scriptedIo();
      const exited = runAuroraSwarm(
        [
          'mock-agents',
          '--count',
          '3',
          '--hostfile',
          hostfile,
          '--model',
          'my-model',
          '--max-model-len',
          '4096',
        ],
        run.io,
      );
      const line = await run.waitForStderr(/listening on/);
      assert.match(
        line,
        /^aurora-swarm mock-agents: 3 simulated vLLM agent\(s\) serving my-model listening on 127\.0\.0\.1:\d+,\d+,\d+; hostfile written to .*hostfile\.txt\. Ctrl-C stops them\.$/,
      );
      const endpoints = parseHostfileText(readFileSync(hostfile, 'utf8'));
      assert.equal(endpoints.length, 3);
      const models = await send(endpoints[2]?.url ?? '', '/v1/models');
      assert.equal(models.status, 200);
      assert.match(models.text, /"id":"my-model".*"max_model_len":4096/);
      run.signal('SIGTERM');
      assert.equal(await exited, 0);
      assert.match(run.stderrLines().at(-1) ?? '', /stopped after 1 request\(s\)/);
    },
  );

  test(
    '--tags gives tag sets to the agents in turn, so the blackboard example runs on them',
    SAFETY,
    async (t) => {
      const directory = temporaryDirectory(t);
      const hostfile = join(directory, 'hostfile.txt');
      const run = scriptedIo();
      const exited = runAuroraSwarm(
        [
          'mock-agents',
          '--count',
          '4',
          '--hostfile',
          hostfile,
          '--tags',
          'role=hypotheses,role=critiques+gpu=a100',
        ],
        run.io,
      );
      await run.waitForStderr(/listening on/);
      const endpoints = parseHostfileText(readFileSync(hostfile, 'utf8'));
      assert.deepEqual(
        endpoints.map((endpoint) => endpoint.tags),
        [
          { role: 'hypotheses' },
          { role: 'critiques', gpu: 'a100' },
          { role: 'hypotheses' },
          { role: 'critiques', gpu: 'a100' },
        ],
      );
      const { stdout } = await execFileAsync(
        process.execPath,
        [
          join(examplesDirectory, 'blackboard-hypotheses.js'),
          '--hostfile',
          hostfile,
          '--rounds',
          '1',
        ],
        { env: { ...process.env, AURORA_SWARM_PROXY_URL: '' } },
      );
      assert.match(stdout, /== hypotheses \(2\)/);
      assert.match(stdout, /== critiques \(2\)/);
      run.signal('SIGINT');
      assert.equal(await exited, 0);

      for (const [tags, pattern] of [
        ['role', /argument 'role' is invalid\. expected key=value tags/],
        ['role=a,,role=b', /got ""/],
      ] as const) {
        const bad = scriptedIo();
        assert.equal(await runAuroraSwarm(['mock-agents', '--tags', tags], bad.io), 2);
        assert.match(bad.stderr(), pattern);
      }
      const tooHigh = scriptedIo();
      assert.equal(
        await runAuroraSwarm(['mock-agents', '-n', '2', '--base-port', '65535'], tooHigh.io),
        2,
      );
      assert.deepEqual(tooHigh.stderrLines(), [
        'aurora-swarm mock-agents: error: --base-port 65535 leaves no room for 2 agents (the last would listen on port 65536): at most 65534, or 0 for free ports',
      ]);
      const missing = scriptedIo();
      const nowhere = join(directory, 'missing', 'hostfile.txt');
      assert.equal(await runAuroraSwarm(['mock-agents', '--hostfile', nowhere], missing.io), 2);
      assert.deepEqual(missing.stderrLines(), [
        `aurora-swarm mock-agents: error: cannot write hostfile ${nowhere}: directory ${join(directory, 'missing')} does not exist`,
      ]);
      // A user's other file is not replaced by the hostfile (an earlier hostfile is).
      const notes = join(directory, 'notes.txt');
      writeFileSync(notes, 'my notes\nline two\n');
      const refused = scriptedIo();
      assert.equal(await runAuroraSwarm(['mock-agents', '--hostfile', notes], refused.io), 2);
      assert.deepEqual(refused.stderrLines(), [
        `aurora-swarm mock-agents: error: cannot write hostfile ${notes}: it is not a hostfile (line 1: expected a port (an integer 1-65535) or a key=value tag after the host, got "notes"): refusing to replace it; choose another --hostfile`,
      ]);
      assert.equal(readFileSync(notes, 'utf8'), 'my notes\nline two\n');
    },
  );

  test(
    'the built bin: hostfile on stdout without --hostfile, failure injection, SIGINT exits 0',
    SAFETY,
    async (t) => {
      const mock = spawnProxy(
        t,
        ['mock-agents', '-n', '2', '--failure', 'status', '--failure-status', '503'],
        { bin: MAIN_BIN },
      );
      await mock.waitForLine(/hostfile on stdout/);
      const endpoints = parseHostfileText(mock.stdout());
      assert.equal(endpoints.length, 2);
      const answer = await send(endpoints[0]?.url ?? '', '/v1/chat/completions', {
        method: 'POST',
        body: '{"messages":[{"role":"user","content":"hi"}]}',
      });
      assert.equal(answer.status, 503);
      mock.child.kill('SIGINT');
      assert.equal(await mock.exited, 0);
    },
  );

  test(
    '--vllm-version, --task, --reasoning, --served-model-name, --max-num-seqs reach the agents',
    SAFETY,
    async (t) => {
      const hostfile = join(temporaryDirectory(t), 'hostfile.txt');
      const run = scriptedIo();
      const flags =
        '--vllm-version legacy --task generate --reasoning --served-model-name alias-a alias-b --max-num-seqs 8';
      const exited = runAuroraSwarm(
        ['mock-agents', '--hostfile', hostfile, ...flags.split(' ')],
        run.io,
      );
      await run.waitForStderr(/listening on/);
      const [endpoint] = parseHostfileText(readFileSync(hostfile, 'utf8'));
      const url = endpoint?.url ?? '';
      assert.equal(JSON.parse((await send(url, '/version')).text).version, '0.10.0+mock');
      const models = JSON.parse((await send(url, '/v1/models')).text) as {
        data: Array<{ id: string }>;
      };
      assert.deepEqual(
        models.data.map((card) => card.id),
        ['alias-a', 'alias-b'],
      );
      const post = (path: string, body: unknown) =>
        send(url, path, {
          method: 'POST',
          headers: [['Content-Type', 'application/json']],
          body: JSON.stringify(body),
        });
      const chat = await post('/v1/chat/completions', {
        model: 'alias-b',
        messages: [{ role: 'user', content: 'hi' }],
      });
      const message = JSON.parse(chat.text).choices[0].message;
      assert.equal(typeof message.reasoning_content, 'string', 'legacy reasoning field');
      const embeddings = await post('/v1/embeddings', { input: 'x' });
      assert.equal(embeddings.status, 400);
      assert.equal(JSON.parse(embeddings.text).object, 'error', 'legacy flat error');
      assert.equal(
        (await post('/v1/chat/completions', { model: 'other', messages: [] })).status,
        404,
      );
      run.signal('SIGTERM');
      assert.equal(await exited, 0);
    },
  );

  test('bad values and a port in use: one line, exit 2 / 1', SAFETY, async (t) => {
    const blocker = createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    t.after(() => blocker.close());
    const port = (blocker.address() as { port: number }).port;
    const cases: Array<[string[], number, RegExp]> = [
      [
        ['--count', 'many'],
        2,
        /'-n, --count <number>' argument 'many' is invalid\. expected a positive integer/,
      ],
      [
        ['--failure', 'explode'],
        2,
        /argument 'explode' is invalid\. Allowed choices are none, hang/,
      ],
      [['--failure-status', '999'], 2, /failureStatus must be an HTTP status, got 999/],
      [
        ['--vllm-version', '0.9'],
        2,
        /argument '0\.9' is invalid\. Allowed choices are current, legacy/,
      ],
      [['--task', 'score'], 2, /Allowed choices are both, generate, embed/],
      [
        ['--base-port', String(port)],
        1,
        new RegExp(
          `a port from ${port} to ${port + 3} is already in use \\(choose another --base-port`,
        ),
      ],
    ];
    for (const [args, exitCode, pattern] of cases) {
      const run = scriptedIo();
      assert.equal(
        await runAuroraSwarm(['mock-agents', ...args], run.io),
        exitCode,
        args.join(' '),
      );
      assert.equal(run.stderrLines().length, 1, run.stderr());
      assert.match(run.stderrLines()[0] ?? '', /^aurora-swarm mock-agents: error: /);
      assert.match(run.stderrLines()[0] ?? '', pattern);
    }
  });
});
