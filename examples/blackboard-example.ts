/**
 * Port of the Python original's examples/blackboard_example.py: a hypotheses + critiques
 * blackboard over role-tagged agents, with the board view sent to the agents limited
 * (`--board-limit full|last_n|max_chars`, the Python script's own formatting, word for word),
 * seed hypotheses (`--initial-hypothesis`, repeatable: `addEntries`), an optional convergence on
 * the number of entries, and, with `--log-dir`, every prompt and response of every round and
 * section as JSONL (`round_<r>_section_<s>.jsonl`, the Python records) — through `onSection`
 * instead of the Python script's hand-written copy of the blackboard loop.
 *
 * The hostfile needs role=hypotheses and role=critiques agents, e.g.:
 *   compute-001	8000	role=hypotheses
 *   compute-002	8000	role=critiques
 *
 *   node dist/examples/blackboard-example.js [--hostfile hostfile.txt] [--max-rounds 5]
 *     [--max-tokens 1024] [--timeout 120] [--concurrency 64] [--board-limit last_n]
 *     [--board-limit-value 10] [--log-dir DIR] [--convergence-entries N]
 *     [--initial-hypothesis TEXT]...
 *
 * Progress and the summary go to stderr with timestamps, as in Python.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Blackboard, type BoardState } from '../src/index.js';
import {
  argumentValue,
  argumentValues,
  exampleCommandLine,
  exampleUsageError,
  logWithTimestamp,
  openExampleSwarm,
} from './example-swarm.js';

exampleCommandLine(
  'Port of blackboard_example.py: hypotheses + critiques on role-tagged agents, the board view limited by --board-limit (full, last_n, max_chars) and --board-limit-value, seeds from --initial-hypothesis, JSONL logs in --log-dir.',
  {
    '--max-tokens': 'number',
    '--max-rounds': 'count',
    '--timeout': 'number',
    '--concurrency': 'number',
    '--board-limit': 'string',
    '--board-limit-value': 'count',
    '--log-dir': 'string',
    '--convergence-entries': 'count',
    '--initial-hypothesis': 'strings',
  },
);

type BoardLimit = 'full' | 'last_n' | 'max_chars';
const boardLimit = (argumentValue('--board-limit') ?? 'last_n') as BoardLimit;
if (!['full', 'last_n', 'max_chars'].includes(boardLimit)) {
  exampleUsageError(
    `--board-limit must be full, last_n or max_chars, got ${JSON.stringify(boardLimit)}`,
  );
}
const boardLimitValue = Number(argumentValue('--board-limit-value') ?? 10);
const maxRounds = Number(argumentValue('--max-rounds') ?? 5);
const maxTokens = Number(argumentValue('--max-tokens') ?? 1024);
const timeoutSeconds = Number(argumentValue('--timeout') ?? 120);
const concurrency = Number(argumentValue('--concurrency') ?? 64);
const logDirectory = argumentValue('--log-dir');
const convergenceFlag = argumentValue('--convergence-entries');
const initialHypotheses = argumentValues('--initial-hypothesis');

/** The Python board_view_for_prompt: the board as the prompt shows it. */
function boardViewForPrompt(board: BoardState, strategy: BoardLimit, value: number): string {
  const blocks = Object.entries(board).map(([section, all]) => {
    const entries = strategy === 'last_n' ? (value ? all.slice(-value) : []) : all;
    return [
      `**${section}** (${entries.length} entries):`,
      ...entries.map((entry, index) => `  ${index + 1}. ${entry}`),
    ].join('\n');
  });
  let text = blocks.length > 0 ? blocks.join('\n\n') : '(Board is empty.)';
  if (strategy === 'max_chars' && value > 0 && text.length > value) {
    const head = text.slice(0, value);
    text = head.includes('\n') ? head.slice(0, head.lastIndexOf('\n')) : head;
  }
  return text;
}

function promptFn(role: string, board: BoardState): string {
  const view = boardViewForPrompt(board, boardLimit, boardLimitValue);
  return role === 'hypotheses'
    ? `You are a scientist proposing hypotheses. Current board state:\n\n${view}\n\nPropose a single new hypothesis (one short sentence).`
    : `You are a critical reviewer. Current board state:\n\n${view}\n\nProvide a brief one-sentence critique of the most recent hypothesis.`;
}

const swarm = await openExampleSwarm({
  mockAgents: 4,
  tags: (index) => ({ role: index % 2 === 0 ? 'hypotheses' : 'critiques' }),
  reply: (prompt, agentIndex) =>
    prompt.startsWith('You are a critical reviewer')
      ? `Critique from agent ${agentIndex}: the most recent hypothesis lacks a control.`
      : `Hypothesis from agent ${agentIndex}: persister cells survive by dormancy.`,
  pool: { maxTokens, timeoutMs: timeoutSeconds * 1000, concurrency },
});
try {
  const roles = new Set(swarm.endpoints.map((endpoint) => endpoint.tags.role));
  if (!roles.has('hypotheses') || !roles.has('critiques')) {
    throw new Error('Hostfile must contain endpoints with role=hypotheses and role=critiques.');
  }
  logWithTimestamp('Blackboard Example (prompt size control + optional logging)');
  logWithTimestamp(
    `Endpoints: ${swarm.endpoints.length}, board-limit: ${boardLimit}, value: ${boardLimitValue}`,
  );
  if (initialHypotheses.length > 0)
    logWithTimestamp(`Initial hypotheses: ${initialHypotheses.length}`);
  if (logDirectory) logWithTimestamp(`Logging to: ${logDirectory}`);

  const blackboard = new Blackboard({ sections: ['hypotheses', 'critiques'], promptFn });
  // Python: bb.board["hypotheses"].extend(initial_hypotheses)
  if (initialHypotheses.length > 0) blackboard.addEntries('hypotheses', initialHypotheses);
  const started = performance.now();
  const result = await blackboard.runDetails(swarm.pool, {
    maxRounds,
    convergence:
      convergenceFlag === undefined
        ? undefined
        : (board) =>
            Object.values(board).reduce((total, entries) => total + entries.length, 0) >=
            Number(convergenceFlag),
    // Python: write_log(log_dir, round, section, prompt, responses) after each section.
    onSection: logDirectory
      ? ({ round, section, prompt, responses }) => {
          mkdirSync(logDirectory, { recursive: true });
          const records = [
            { round, section, kind: 'prompt', length: prompt.length, text: prompt },
            ...responses.map((response, index) => ({
              round,
              section,
              kind: 'response',
              index,
              success: response.success,
              length: response.text.length,
              text: response.text,
              error: response.error ?? null,
            })),
          ];
          appendFileSync(
            join(logDirectory, `round_${round}_section_${section}.jsonl`),
            records.map((record) => `${JSON.stringify(record)}\n`).join(''),
          );
        }
      : undefined,
  });
  const elapsed = (performance.now() - started) / 1000;
  logWithTimestamp('SUMMARY');
  logWithTimestamp(`  Rounds: ${result.roundsRun}`);
  logWithTimestamp(`  Hypotheses: ${result.board.hypotheses?.length ?? 0}`);
  logWithTimestamp(`  Critiques: ${result.board.critiques?.length ?? 0}`);
  logWithTimestamp(`  Elapsed: ${elapsed.toFixed(2)}s`);
  if (result.failures.length > 0) logWithTimestamp(`  Failed answers: ${result.failures.length}`);
} finally {
  await swarm.close();
}
