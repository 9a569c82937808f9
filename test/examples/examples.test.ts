/**
 * Runs every example end to end as a separate process against a simulated swarm (through its
 * hostfile, as a user would), so the examples cannot rot.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
  return (await runExampleFully(name, ...argv)).stdout;
}

/** Run an example and keep both streams (the Python ports log to stderr, as Python does). */
async function runExampleFully(
  name: string,
  ...argv: string[]
): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [join(examplesDirectory, `${name}.js`), ...argv], {
    env: childEnvironment,
    timeout: 60_000,
  });
}

const fixtures = fileURLToPath(new URL('../../../test/fixtures/python-uq/', import.meta.url));

// Three examples at a time: each is a node process (some start their own simulated swarm),
// and the whole suite runs beside the others on a machine of two cores.
describe('examples', { timeout: 600_000, concurrency: 3 }, () => {
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

  test("create-vllm-pool (port of getting_started/create_vllm_pool.py) lists every agent's models with the OpenAI client", async (t) => {
    // Each agent serves its own model name, so the output shows which agent each client reached.
    const own = await startMockSwarm({
      count: 3,
      perAgent: (index) => ({ model: `org/model-${index}` }),
    });
    t.after(() => own.close());
    const ownHostfile = join(directory, 'own-models.txt');
    await own.writeHostfile(ownHostfile);
    const output = await runExample('create-vllm-pool', ownHostfile);
    assert.match(output, /^VLLMPool created: 3 agent\(s\)/);
    for (let index = 0; index < 3; index++) {
      assert.match(
        output,
        new RegExp(
          `client_index=${index} http://127\\.0\\.0\\.1:${own.agents[index]!.port}/v1/models -> 1 model\\(s\\): \\["org/model-${index}"\\]`,
        ),
      );
    }
    assert.deepEqual(
      own.agents.map((agent) => agent.requests.map((request) => request.url)),
      [['/v1/models'], ['/v1/models'], ['/v1/models']],
    );
  });

  test('create-vllm-subpools (port of create_vllm_subpools.py) numbers agents within each half', async () => {
    const output = await runExample('create-vllm-subpools', '--hostfile', hostfile);
    assert.match(output, /parent pool size=4/);
    assert.match(
      output,
      /left subpool size=2\n {2}sub_client_index=\[0\] parent_client_index=\[0\]/,
    );
    assert.match(
      output,
      new RegExp(
        `right subpool size=2\\n  sub_client_index=\\[0\\] parent_client_index=\\[2\\] http://127\\.0\\.0\\.1:${swarm.agents[2]!.port}/v1/models -> \\["meta-llama`,
      ),
    );
    assert.match(output, /sub_client_index=\[1\] parent_client_index=\[3\]/);
  });

  test("scatter-gather-coli (port of scatter_gather_coli.py) batches each agent's share, answers in input order", async () => {
    const input = join(directory, 'coli');
    await mkdir(input, { recursive: true });
    const genes = Array.from(
      { length: 10 },
      (_, index) => `511145.12\tEscherichia coli K-12\tb${1000 + index}\tgene ${index}`,
    );
    await writeFile(join(input, 'chunk_001.txt'), `${genes.slice(0, 6).join('\n')}\nshort line\n`);
    await writeFile(join(input, 'chunk_002.txt'), `${genes.slice(6).join('\n')}\n`);
    await writeFile(join(input, 'chunk_003.txt'), 'not read: --num-files 2\n');
    const before = swarm.agents.map((agent) => agent.requests.length);
    const { stdout, stderr } = await runExampleFully(
      'scatter-gather-coli',
      input,
      '--hostfile',
      hostfile,
      '--num-files',
      '2',
    );
    const headers = [...stdout.matchAll(/\[GENE: (b\d+)\]/g)].map((match) => match[1]);
    assert.deepEqual(
      headers,
      genes.map((_, index) => `b${1000 + index}`),
    );
    assert.match(stderr, /Warning: Line 7 has fewer than 4 fields, skipping: short line/);
    assert.match(stderr, /Total prompts: 10\n.*Successful: 10\n.*Errors: 0/);
    const sent = swarm.agents.map((agent, index) =>
      agent.requests
        .slice(before[index])
        .filter((request) => request.url === '/v1/completions')
        .map((request) => (JSON.parse(request.body).prompt as string[]).length),
    );
    assert.deepEqual(sent, [[3], [3], [2], [2]], 'one prompt list per agent');
  });

  test('blackboard-example (port of blackboard_example.py) seeds, limits the view and logs JSONL', async () => {
    const logs = join(directory, 'bb-logs');
    const { stderr } = await runExampleFully(
      'blackboard-example',
      '--hostfile',
      hostfile,
      '--max-rounds',
      '2',
      '--board-limit',
      'last_n',
      '--board-limit-value',
      '1',
      '--initial-hypothesis',
      'seed one',
      '--initial-hypothesis',
      'seed two',
      '--log-dir',
      logs,
    );
    assert.match(stderr, /Initial hypotheses: 2/);
    assert.match(stderr, /Rounds: 2\n.*Hypotheses: 6\n.*Critiques: 4/);
    const records = (await readFile(join(logs, 'round_1_section_hypotheses.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(records.length, 3, 'the prompt and two answers');
    assert.equal(records[0].kind, 'prompt');
    // last_n 1: only the newest seed is shown, with Python's formatting.
    assert.match(records[0].text, /\*\*hypotheses\*\* \(1 entries\):\n {2}1\. seed two\n\n/);
    assert.deepEqual(Object.keys(records[1]), [
      'round',
      'section',
      'kind',
      'index',
      'success',
      'length',
      'text',
      'error',
    ]);
    assert.equal(records[1].error, null);
    const bad = await runExampleFully('blackboard-example', '--board-limit', 'all').catch(
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal((bad as { code: number }).code, 2);
  });

  test('context-length-demo (port of context_length_demo.py) shows the budget the agent received', async () => {
    const output = await runExample('context-length-demo');
    assert.match(output, /Max tokens \(from env\): 2048/);
    assert.match(output, /Short prompt \(19 chars\):[\s\S]*?the agent received max_tokens=1024/);
    assert.match(
      output,
      /Longer prompt \(520009 chars\):[\s\S]*?= 557\n.*the agent received max_tokens=557/,
    );
    assert.match(output, /Reduce step uses: 2048 tokens/);
  });

  test('lab3-semantic-uncertainty (port of lab3_semantic_uncertainty.py): entropy, KLE and a Python probe', async () => {
    const entropy = JSON.parse(await runExample('lab3-semantic-uncertainty'));
    assert.equal(entropy.num_responses, 8);
    assert.equal(entropy.num_embeddings, 8);
    assert.equal(entropy.uncertainty, Math.log(2), 'two camps of four answers');
    const kle = JSON.parse(
      await runExample('lab3-semantic-uncertainty', '--method', 'kle', '--chat'),
    );
    assert.ok(kle.uncertainty > 0 && kle.uncertainty < Math.log(8));
    const prompts = join(directory, 'lab3-prompts.txt');
    await writeFile(
      prompts,
      `# twenty prompts, one per row of hidden-states.npy\n${Array.from({ length: 20 }, (_, index) => `question ${index}`).join('\n')}\n`,
    );
    const probed = (
      await runExample(
        'lab3-semantic-uncertainty',
        '--method',
        'probe',
        '--probe',
        join(fixtures, 'probe.npz'),
        '--hidden-states',
        join(fixtures, 'hidden-states.npy'),
        '--prompts',
        prompts,
        '--num-samples',
        '2',
      )
    )
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).uncertainty as number);
    const reference = JSON.parse(await readFile(join(fixtures, 'uq-reference.json'), 'utf8'));
    probed.forEach((value, index) => {
      assert.ok(Math.abs(value - reference.probe.predictions[index]) < 1e-9, `row ${index}`);
    });
  });

  test('lab3-train-probe (port of lab3_train_probe.py) trains the Python probe from .npy files', async () => {
    const out = join(directory, 'probe.json');
    const { stderr } = await runExampleFully(
      'lab3-train-probe',
      '--hidden-states',
      join(fixtures, 'hidden-states.npy'),
      '--targets',
      join(fixtures, 'targets.npy'),
      '--ridge-alpha',
      '0.01',
      '--out',
      out,
    );
    assert.match(stderr, /Metadata: \{"ridge_alpha":0\.01,"n_prompts":20,"n_features":5\}/);
    const probe = JSON.parse(await readFile(out, 'utf8'));
    const reference = JSON.parse(await readFile(join(fixtures, 'uq-reference.json'), 'utf8'));
    probe.weights.forEach((weight: number, index: number) => {
      assert.ok(Math.abs(weight - reference.probe.coef[index]) < 1e-9, `coef ${index}`);
    });
    assert.ok(Math.abs(probe.intercept - reference.probe.intercept) < 1e-9);
    const demo = await runExample('lab3-train-probe');
    assert.equal(demo.trim().split('\n').length, 6, 'six sampled prompts');
  });

  test('tree-reduce-example (port of tree_reduce_example.py): scatter mode over --items', async () => {
    const { stdout, stderr } = await runExampleFully(
      'tree-reduce-example',
      '--hostfile',
      hostfile,
      '--items',
      'water, methane,ethanol,,glucose,salt',
      '--prompt',
      'Describe the molecular formula of {item} in one sentence.',
      '--fanin',
      '4',
    );
    assert.match(stderr, /Scatter mode: 5 items, fanin=4/);
    assert.match(stdout, /^\nFinal result:\n-{40}\n.+\n-{40}\n$/);
    const refused = await runExampleFully('tree-reduce-example', '--items', 'a,b').catch(
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal((refused as { code: number }).code, 2);
    assert.match(
      (refused as { stderr: string }).stderr,
      /--prompt must contain \{item\} placeholder when using --items/,
    );
  });

  test('test-embeddings-sg (port of test_embeddings_sg.py): the raw answer, then embeddings in input order', async () => {
    const { stdout, stderr } = await runExampleFully('test-embeddings-sg');
    assert.match(stderr, /Status: 200 OK/);
    assert.match(stderr, /"object": "list"/);
    assert.match(stderr, /Gathered: 3\/3 succeeded/);
    assert.match(stdout, /\[0\] OK \(agent 0\) "Hello world\."\n {7}dimension=16/);
    assert.match(stdout, /\[2\] OK \(agent 2\) "Scatter-gather pattern\."/);
    const wrong = await runExampleFully('test-embeddings-sg', '--model', 'no-such-model').catch(
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal((wrong as { code: number }).code, 1);
    assert.match(
      (wrong as { stderr: string }).stderr,
      /Status: 404 Not Found[\s\S]*Hint: Query the server with GET \/v1\/models/,
    );
  });

  test('every example answers --help, rejects unknown flags and prints one-line errors', async () => {
    const names = [
      'blackboard-example',
      'blackboard-hypotheses',
      'broadcast-aggregators',
      'broadcast-majority-vote',
      'context-length-demo',
      'create-vllm-pool',
      'create-vllm-subpools',
      'lab3-semantic-uncertainty',
      'lab3-train-probe',
      'scatter-gather-coli',
      'scatter-gather-file',
      'semantic-entropy',
      'test-embeddings-sg',
      'tree-reduce-coli',
      'tree-reduce-documents',
      'tree-reduce-example',
      'two-stage-pipeline',
      'proxy-quickstart',
    ];
    // Every example is in the list (a new one cannot skip these checks).
    const onDisk = readdirSync(examplesDirectory)
      .filter((file) => file.endsWith('.js') && file !== 'example-swarm.js')
      .map((file) => file.slice(0, -'.js'.length));
    assert.deepEqual([...names].sort(), onDisk.sort());
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
            timeout: 60_000,
          },
        );
        return { code: 0, stdout, stderr };
      } catch (error) {
        const failure = error as { code: number; stdout: string; stderr: string };
        return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
      }
    };
    for (const name of names) {
      const [help, unknown, missing] = await Promise.all([
        attempt(name, '--help'),
        attempt(name, '--no-such-flag'),
        attempt(name, ...(name === 'proxy-quickstart' ? [] : ['--hostfile', 'nope.txt'])),
      ]);
      assert.equal(help.code, 0, name);
      assert.match(help.stdout, new RegExp(`^Usage: node dist/examples/${name}\\.js`), name);
      assert.equal(unknown.code, 2, name);
      if (name !== 'proxy-quickstart') {
        assert.equal(
          unknown.stderr,
          `${name}: error: Unknown option '--no-such-flag' (see --help)\n`,
        );
      }
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
