/**
 * Runs every example end to end as a separate process against a simulated swarm (through its
 * hostfile, as a user would), so the examples cannot rot.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type MockSwarm, startMockSwarm } from '../../src/index.js';

const run = promisify(execFile);
const examplesDirectory = fileURLToPath(new URL('../../examples/', import.meta.url));

const childEnvironment = { ...process.env };
delete childEnvironment.AURORA_SWARM_PROXY_URL;
delete childEnvironment.AURORA_SWARM_HOSTFILE;

async function runExample(name: string, ...argv: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [join(examplesDirectory, `${name}.js`), ...argv], {
    env: childEnvironment,
    timeout: 20_000,
  });
  return stdout;
}

describe('examples', { timeout: 60_000, concurrency: true }, () => {
  let swarm: MockSwarm;
  let directory: string;
  let hostfile: string;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'aurora-swarm-examples-'));
    hostfile = join(directory, 'hostfile.txt');
    swarm = await startMockSwarm({
      count: 4,
      tags: (index) => ({ role: index % 2 === 0 ? 'hypotheses' : 'critiques' }),
    });
    await swarm.writeHostfile(hostfile);
  });
  after(async () => {
    await swarm.close();
    await rm(directory, { recursive: true, force: true });
  });

  test('broadcast-majority-vote against a hostfile', async () => {
    const output = await runExample('broadcast-majority-vote', '--hostfile', hostfile);
    assert.match(output, /agent 3: Agent 3/);
    assert.match(output, /Majority answer: .+ \(confidence 0\.25\)/);
    assert.ok(swarm.agents.every((agent) => agent.stats.requests > 0));
  });

  test('broadcast-majority-vote starts its own swarm without a hostfile', async () => {
    const output = await runExample('broadcast-majority-vote');
    assert.match(output, /5 simulated agent\(s\)/);
    assert.match(output, /Majority answer: Yes \(confidence 0\.80\)/);
  });

  test('scatter-gather-file streams a prompts file to a results file', async () => {
    const out = join(directory, 'results.jsonl');
    const output = await runExample('scatter-gather-file', '--hostfile', hostfile, '--out', out);
    assert.match(output, /--- Prompt 0 \(agent 0\) ---/);
    assert.match(output, /Done: 8 answered, 0 failed/);
    const lines = (await readFile(out, 'utf8')).trim().split('\n');
    assert.equal(lines.length, 8);
    const indices = lines
      .map((line) => (JSON.parse(line) as { index: number }).index)
      .sort((a, b) => a - b);
    assert.deepEqual(indices, [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test('tree-reduce-documents reduces to one answer', async () => {
    const output = await runExample(
      'tree-reduce-documents',
      '--hostfile',
      hostfile,
      '--documents',
      '30',
      '--fanin',
      '4',
    );
    assert.match(output, /level 0: 30 node\(s\)/);
    assert.match(output, /level 3: 1 node\(s\)/);
    assert.match(output, /Final summary: /);
  });

  test('blackboard-hypotheses uses the role tags of the hostfile', async () => {
    const output = await runExample(
      'blackboard-hypotheses',
      '--hostfile',
      hostfile,
      '--rounds',
      '2',
    );
    assert.match(output, /== hypotheses \(4\)/);
    assert.match(output, /== critiques \(4\)/);
    assert.match(output, /Rounds: 2; failed answers: 0/);
  });

  test('two-stage-pipeline drafts then edits', async () => {
    const output = await runExample('two-stage-pipeline', '--hostfile', hostfile, '--disjoint');
    assert.match(output, /3 drafter\(s\), 1 editor \(disjoint\)/);
    assert.match(output, /-- stage edit: 1 answer\(s\)/);
    assert.match(output, /Result:\n/);
  });

  test('semantic-entropy samples, embeds and clusters', async () => {
    const output = await runExample('semantic-entropy');
    assert.match(output, /cluster 0: 2 answer\(s\), e\.g\. "Oxygen gas"/);
    assert.match(output, /cluster 1: 4 answer\(s\)/);
    assert.match(output, /Semantic entropy: 0\.637 nats over 2 cluster\(s\)/);
  });

  test('broadcast-aggregators (port of broadcast_aggregators.py) excludes one agent', async () => {
    const output = await runExample(
      'broadcast-aggregators',
      '--hostfile',
      hostfile,
      '--exclude-index',
      '2',
      '--show-failures',
    );
    assert.match(output, /Broadcasting to 3 agents \(excluding index 2\)/);
    assert.match(output, /Winner: "agent 0 .*"\n {2}Confidence: 0\.33/);
    assert.match(output, /Total: 3, Success: 3, Failures: 0/);
    const own = await runExample('broadcast-aggregators');
    assert.match(own, /Winner: "yes"\n {2}Confidence: 0\.75/);
  });

  test('tree-reduce-coli (port of tree_reduce_coli.py) sizes supervisor budgets by group', async () => {
    const output = await runExample(
      'tree-reduce-coli',
      '--fanin',
      '2',
      '--max-tokens',
      '100',
      '--max-tokens-contingency',
      '50',
    );
    assert.match(output, /Leaves: 5 gene\(s\); fanin 2/);
    assert.match(output, /--- Level 1, Group 0 ---\nSynthesis by agent 0 of 2 responses/);
    assert.match(output, /FINAL SYNTHESIS\nSynthesis by agent 0/);
    assert.match(output, /Supervisor calls: 4/);
  });

  test('every example answers --help, rejects unknown flags and prints one-line errors', async () => {
    const names = [
      'blackboard-hypotheses',
      'broadcast-aggregators',
      'broadcast-majority-vote',
      'scatter-gather-file',
      'semantic-entropy',
      'tree-reduce-coli',
      'tree-reduce-documents',
      'two-stage-pipeline',
      'proxy-quickstart',
    ];
    const empty = join(directory, 'empty');
    await mkdir(empty, { recursive: true });
    const attempt = async (name: string, ...argv: string[]) => {
      try {
        const { stdout, stderr } = await run(
          process.execPath,
          [join(examplesDirectory, `${name}.js`), ...argv],
          {
            env: childEnvironment,
            cwd: empty,
            timeout: 20_000,
          },
        );
        return { code: 0, stdout, stderr };
      } catch (error) {
        const failure = error as { code: number; stdout: string; stderr: string };
        return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
      }
    };
    for (const name of names) {
      const help = await attempt(name, '--help');
      assert.equal(help.code, 0, name);
      assert.match(help.stdout, new RegExp(`^Usage: node dist/examples/${name}\\.js`), name);
      const unknown = await attempt(name, '--no-such-flag');
      assert.equal(unknown.code, 2, name);
      if (name !== 'proxy-quickstart') {
        assert.equal(
          unknown.stderr,
          `${name}: error: Unknown option '--no-such-flag' (see --help)\n`,
        );
      }
      const missing = await attempt(
        name,
        ...(name === 'proxy-quickstart' ? [] : ['--hostfile', 'nope.txt']),
      );
      assert.equal(missing.code, 1, name);
      assert.equal(
        missing.stderr,
        `${name}: error: cannot read hostfile ${name === 'proxy-quickstart' ? 'hostfile.txt' : 'nope.txt'}: no such file\n`,
      );
    }
    const bad = await attempt('tree-reduce-documents', '--fanin', 'many');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--fanin expects a positive number, got "many"/);
  });
});
