import { Command, Option } from 'commander';
import { PROXY_URL_ENV_VAR } from '../../pool/pool-options.js';
import type { PromptFileFormat } from '../../run/prompt-file.js';
import { checkResultsPath } from '../../run/result-file.js';
import { type RunPlan, type RunSummary, runPromptFile } from '../../run/run-prompt-file.js';
import { positiveSecondsArgument, runAction } from '../cli-errors.js';
import { type CliIo, type CliOutcome, EXIT_FAILURE, EXIT_INTERRUPTED } from '../cli-io.js';
import { type CliStyle, cliStyle } from '../cli-style.js';
import { configureCommand } from '../configure-command.js';
import {
  createRunProgressDisplay,
  DEFAULT_PROGRESS_INTERVAL_SECONDS,
  formatDuration,
} from '../run-progress.js';
import { ShutdownSignals } from '../shutdown-signals.js';
import { useSteadyHeap } from '../steady-heap.js';
import {
  addOutageTimeoutFlag,
  addPoolFlags,
  addSwarmTargetFlags,
  createSwarmPool,
  describeOutage,
  resolveSwarm,
  type SwarmFlags,
} from '../swarm-flags.js';

/** Flag values after commander's parsing. */
interface RunFlags extends SwarmFlags {
  prompts: string;
  out: string;
  format: PromptFileFormat;
  retryFailed: boolean;
  retryAllFailed?: boolean;
  progressInterval: number;
}

const HELP_AFTER = `
Prompts file: JSONL, one {"id": ..., "prompt": "..."} a line (id: a string or a number,
unique; without one, the line number), or plain text, one prompt a line (id = line
number). Blank lines are skipped. The whole file is checked before anything is sent.

Results file: one JSON line per prompt, appended as results arrive:
  {"id", "success", "text" | "error", "failure_kind", "agent", "line", "latency_ms",
   "finish_reason", "usage"}
Rerun the same command after a crash, a kill or Ctrl-C: prompts with a result are
skipped, failed ones are sent again (unless --no-retry-failed; failures a retry cannot
fix, such as a prompt longer than the model's context, only with --retry-all-failed).
Every id ends up in the file exactly once. --out must be absent, empty or a results file
of this command; anything else is refused untouched. One run at a time per results file
(a lock beside it, <out>.lock, that works on network file systems).

A dead agent is not called for 5 s after 3 connection failures in a row (its circuit
breaker): with round-robin its prompts fail at once as "unavailable" (a rerun sends them
again); with --dispatch least-loaded they go to the other agents, and fast agents take
more prompts than slow ones.

If the proxy (or, without one, every agent) stops answering, nothing is written as failed:
the run waits, probing with backoff, and carries on when it answers again; after
--outage-timeout seconds it stops as interrupted.

Exit codes: 0 every prompt succeeded, 1 some failed (see the summary; rerun to retry),
2 bad command line or input file, results file refused or in use by another run,
130 interrupted (Ctrl-C, SIGTERM, an outage longer than --outage-timeout; rerun to resume).

Examples:
  $ aurora-swarm run --hostfile hostfile.txt --prompts prompts.jsonl --out results.jsonl
  $ aurora-swarm run --proxy http://localhost:9090 --prompts prompts.txt --out results.jsonl
  $ aurora-swarm run -f hostfile.txt -i prompts.jsonl -o results.jsonl --concurrency 64 --max-tokens 256 --timeout 600
  $ AURORA_SWARM_PROXY_URL=http://localhost:9090 aurora-swarm run -f hostfile.txt -i prompts.jsonl -o results.jsonl

Documentation: docs/cli.md`;

const FORMATS: readonly PromptFileFormat[] = ['auto', 'jsonl', 'text'];

function describePlan(plan: RunPlan, flags: RunFlags, origin: string, via: string): string {
  const notes: string[] = [];
  if (plan.alreadyDone > 0) notes.push(`${plan.alreadyDone} done by an earlier run (skipped)`);
  if (plan.retried > 0) notes.push(`${plan.retried} failed earlier (sent again)`);
  if (plan.finalFailures > 0) {
    notes.push(
      `${plan.finalFailures} failed earlier in a way a retry cannot fix (kept; --retry-all-failed sends them again)`,
    );
  }
  if (plan.torn > 0) {
    notes.push(
      `removed the unfinished last line of ${flags.out} (no newline at its end: a write cut by a kill)`,
    );
  }
  if (plan.duplicates > 0) {
    notes.push(`removed ${plan.duplicates} result line(s) whose id had a result already`);
  }
  if (plan.unmatched > 0) {
    notes.push(
      `${plan.unmatched} result(s) in ${flags.out} match no prompt (another prompts file?)`,
    );
  }
  return (
    `aurora-swarm run: ${plan.total} prompt(s) in ${flags.prompts} (${plan.format})` +
    `${notes.length > 0 ? `; ${notes.join('; ')}` : ''}\n` +
    `aurora-swarm run: sending ${plan.toRun} to ${origin} ${via}, ${flags.concurrency} at a time${flags.dispatch === 'least-loaded' ? ', each to the least-loaded agent' : ''}; results to ${flags.out}\n`
  );
}

/** The summary printed at the end (stdout). */
export function formatRunSummary(
  summary: RunSummary,
  flags: { out: string },
  style: CliStyle,
): string {
  const { plan } = summary;
  const lines: string[] = [];
  const seconds = summary.elapsedMs / 1000;
  const head = summary.interrupted ? style.yellow('interrupted') : 'done';
  lines.push(
    `aurora-swarm run: ${head}: ${summary.done} of ${plan.toRun} prompt(s) answered in ${formatDuration(seconds)} (${summary.resultsPerSecond.toFixed(1)}/s): ${style.green(`${summary.succeeded} succeeded`)}, ${summary.failed > 0 ? style.red(`${summary.failed} failed`) : '0 failed'}`,
  );
  if (summary.failures.length > 0) {
    // The same words as failure_kind in the results file.
    lines.push('  failures by kind (failure_kind):');
    const width = Math.max(...summary.failures.map((group) => group.cause.length));
    for (const group of summary.failures) {
      lines.push(
        `    ${group.cause.padEnd(width)}  ${String(group.count).padStart(6)}  e.g. ${group.example.slice(0, 160)}`,
      );
    }
  }
  const inFile = plan.alreadyDone + summary.done;
  const failedInFile = plan.alreadyFailed + summary.failed;
  lines.push(
    `  ${flags.out}: ${inFile} of ${plan.total} prompt(s) have a result${failedInFile > 0 ? ` (${failedInFile} failed)` : ''}`,
  );
  let final = plan.finalFailures;
  for (const group of summary.failures) {
    if (group.retryHelps) continue;
    final += group.count;
    lines.push(`  ${finalFailureAdvice(group.cause, group.count)}`);
  }
  if (plan.finalFailures > 0) {
    lines.push(
      `  ${plan.finalFailures} earlier failure(s) a retry cannot fix were kept (--retry-all-failed sends them again)`,
    );
  }
  const retryable = failedInFile - final;
  if (summary.interrupted) lines.push('  rerun the same command to resume');
  else if (retryable > 0) {
    const other = final > 0 ? ' other' : '';
    lines.push(`  rerun the same command to retry the ${retryable}${other} failed prompt(s)`);
  }
  return `${lines.join('\n')}\n`;
}

function finalFailureAdvice(cause: string, count: number): string {
  if (cause === 'context-overflow') {
    return `${count} prompt(s) are longer than the model's context: rerunning will not help (shorten them, or use a model with a longer context)`;
  }
  if (cause === 'invalid-request') {
    return `${count} prompt(s) were rejected by the agent as invalid requests: rerunning the same command will not help (see the error in the results file)`;
  }
  return `${count} prompt(s) failed with ${cause}: rerunning will not help`;
}

async function runRun(flags: RunFlags, io: CliIo): Promise<number> {
  // Peak memory flat in the size of the job (see steady-heap.ts).
  useSteadyHeap();
  const signals = new ShutdownSignals(io);
  try {
    // The files first: a results file that cannot be used is refused before the swarm is asked.
    await checkResultsPath(flags.out, flags.prompts);
    const target = await resolveSwarm(flags, io, 'combine');
    const via =
      target.proxyUrl === undefined ? 'directly' : `through the proxy at ${target.proxyUrl}`;
    await using pool = createSwarmPool(flags, target);
    const style = cliStyle(io, 'stdout');
    const display = createRunProgressDisplay(io, cliStyle(io, 'stderr'), {
      intervalSeconds: flags.progressInterval,
      window: flags.concurrency,
    });
    const interrupt = new AbortController();
    signals.handle({
      first: (signal) => {
        display.stop();
        io.stderr(`\naurora-swarm run: ${signal}: stopping; the results so far are kept\n`);
        interrupt.abort();
      },
      again: (signal) => io.stderr(`aurora-swarm run: ${signal} again: already stopping\n`),
    });
    let summary: RunSummary;
    try {
      summary = await runPromptFile({
        pool,
        promptsPath: flags.prompts,
        outPath: flags.out,
        format: flags.format,
        retryFailed: flags.retryFailed,
        retryAllFailed: flags.retryAllFailed === true,
        dispatch: flags.dispatch,
        outageTimeoutMs: flags.outageTimeout * 1000,
        signal: interrupt.signal,
        onStart: (plan) => {
          io.stderr(describePlan(plan, flags, target.agents, via));
          display.start(plan);
        },
        onResult: (_record, progress) => display.update(progress),
        onNotice: (message, event) => {
          const outage = event?.type === 'lock-taken-over' || event?.type === 'lock-lost';
          const line = event === undefined || outage ? message : describeOutage(event);
          display.log(`aurora-swarm run: ${line}`);
          if (event?.type === 'outage') display.setStatus(`waiting for ${event.target}`);
          else if (event?.type === 'recovered') display.setStatus(undefined);
        },
      });
    } finally {
      display.stop();
    }
    io.stdout(formatRunSummary(summary, flags, style));
    if (summary.interrupted) return EXIT_INTERRUPTED;
    return summary.failed + summary.plan.alreadyFailed > 0 ? EXIT_FAILURE : 0;
  } finally {
    signals.dispose();
  }
}

/** `aurora-swarm run`: scatter-gather from a prompts file to a results file, resumable. */
export function createRunCommand(io: CliIo, outcome: CliOutcome): Command {
  const command = new Command('run').description(
    'send every prompt of a file to the swarm and append each result to a JSONL file as it completes (resumable)',
  );
  addSwarmTargetFlags(command, {
    hostfile: 'the agents; optional with --proxy, which then supplies them',
    proxy: 'send everything through this aurora-swarm-proxy',
    noProxy: `connect to the agents directly, even if ${PROXY_URL_ENV_VAR} is set`,
  })
    .requiredOption(
      '-i, --prompts <path>',
      'prompts file: JSONL with "id" and "prompt", or one prompt a line',
    )
    .requiredOption(
      '-o, --out <path>',
      'results file (JSONL), appended to; rerunning resumes from it',
    )
    .addOption(
      new Option('--format <format>', 'how to read the prompts file')
        .choices(FORMATS as string[])
        .default('auto'),
    );
  addPoolFlags(command, { concurrency: 'most prompts in flight at once, all agents together' })
    .option('--no-retry-failed', 'on a rerun, keep earlier failures instead of sending them again')
    .option(
      '--retry-all-failed',
      'on a rerun, also send again failures a retry cannot fix (context overflow, invalid request), e.g. after switching to a model with a longer context',
    );
  addOutageTimeoutFlag(command)
    .addOption(
      new Option(
        '--progress-interval <seconds>',
        'seconds between progress lines when stderr is not a terminal',
      )
        .argParser(positiveSecondsArgument)
        .default(DEFAULT_PROGRESS_INTERVAL_SECONDS),
    )
    .addHelpText('after', HELP_AFTER);
  command.action((flags: RunFlags) => runAction(command, io, outcome, () => runRun(flags, io)));
  return configureCommand(command, io);
}
