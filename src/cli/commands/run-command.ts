import { Command, InvalidArgumentError, Option } from 'commander';
import type { AgentEndpoint } from '../../hostfile/agent-endpoint.js';
import { parseHostfile } from '../../hostfile/parse-hostfile.js';
import {
  DEFAULT_CONCURRENCY,
  POOL_PROXY_TOKEN_ENV_VAR,
  PROXY_URL_ENV_VAR,
} from '../../pool/pool-options.js';
import type { DispatchPolicy } from '../../pool/types.js';
import { VLLMPool } from '../../pool/vllm-pool.js';
import { DEFAULT_VLLM_POOL_TIMEOUT_MS } from '../../pool/vllm-pool-options.js';
import { HOSTFILE_ENV_VAR } from '../../proxy/proxy-options.js';
import { DEFAULT_OUTAGE_TIMEOUT_MS } from '../../run/outage-guard.js';
import type { PromptFileFormat } from '../../run/prompt-file.js';
import { checkResultsPath } from '../../run/result-file.js';
import {
  type RunNoticeEvent,
  type RunPlan,
  type RunSummary,
  runPromptFile,
} from '../../run/run-prompt-file.js';
import {
  positiveIntegerArgument,
  positiveSecondsArgument,
  runAction,
  urlArgument,
  usageError,
} from '../cli-errors.js';
import { type CliIo, type CliOutcome, EXIT_FAILURE, EXIT_INTERRUPTED } from '../cli-io.js';
import { type CliStyle, cliStyle } from '../cli-style.js';
import { configureCommand } from '../configure-command.js';
import { readProxyHosts } from '../proxy-client.js';
import {
  createRunProgressDisplay,
  DEFAULT_PROGRESS_INTERVAL_SECONDS,
  formatDuration,
} from '../run-progress.js';
import { ShutdownSignals } from '../shutdown-signals.js';

/** Flag values after commander's parsing. */
interface RunFlags {
  hostfile?: string;
  prompts: string;
  out: string;
  format: PromptFileFormat;
  model?: string;
  /** A URL, `false` after `--no-proxy`, or undefined (then the environment decides). */
  proxy?: string | false;
  token?: string;
  concurrency: number;
  maxTokens?: number;
  timeout: number;
  retryFailed: boolean;
  retryAllFailed?: boolean;
  outageTimeout: number;
  progressInterval: number;
  dispatch: DispatchPolicy;
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
/** The values of `--dispatch` (run and job work). */
export const DISPATCH_POLICIES: readonly DispatchPolicy[] = ['round-robin', 'least-loaded'];

function fromEnvironment(io: CliIo, name: string): string | undefined {
  const value = io.env[name]?.trim();
  return value ? value : undefined;
}

/** The proxy URL: the flag, else the environment variable; `undefined` for direct mode. */
function resolveProxyUrl(flags: RunFlags, io: CliIo): string | undefined {
  if (flags.proxy === false) return undefined;
  if (flags.proxy !== undefined) return flags.proxy;
  const fromEnv = fromEnvironment(io, PROXY_URL_ENV_VAR);
  if (fromEnv === undefined) return undefined;
  try {
    return urlArgument(fromEnv);
  } catch (error) {
    const reason = error instanceof InvalidArgumentError ? error.message : String(error);
    throw usageError(`environment variable ${PROXY_URL_ENV_VAR}="${fromEnv}": ${reason}`);
  }
}

/** The agents: the hostfile's, checked against the proxy's when there is one. */
async function resolveEndpoints(
  hostfile: string | undefined,
  proxyUrl: string | undefined,
  token: string | undefined,
): Promise<{ endpoints: AgentEndpoint[]; origin: string }> {
  const proxyHosts = proxyUrl === undefined ? undefined : await readProxyHosts(proxyUrl, token);
  if (hostfile === undefined) {
    if (proxyHosts === undefined) {
      throw usageError(
        `no agents: pass --hostfile (or set ${HOSTFILE_ENV_VAR}), or --proxy to use the proxy's agents`,
      );
    }
    if (proxyHosts.length === 0) throw usageError(`the proxy at ${proxyUrl} has no agents`);
    return { endpoints: proxyHosts, origin: `the proxy's ${proxyHosts.length} agent(s)` };
  }
  const endpoints = parseHostfile(hostfile);
  if (endpoints.length === 0) throw usageError(`No endpoints found in hostfile ${hostfile}`);
  if (proxyHosts !== undefined) {
    // In proxy mode agent i of the hostfile is reached as /agent/i of the proxy: the two
    // lists must agree, or prompts would silently go to other agents.
    const mismatch = endpoints.findIndex((endpoint, index) => {
      const proxyHost = proxyHosts[index];
      return (
        proxyHost === undefined ||
        proxyHost.host !== endpoint.host ||
        proxyHost.port !== endpoint.port
      );
    });
    if (mismatch >= 0) {
      const ours = endpoints[mismatch];
      const theirs = proxyHosts[mismatch];
      throw usageError(
        `${hostfile} does not match the proxy's hostfile: agent ${mismatch} is ${ours?.host}:${ours?.port} here but ${theirs ? `${theirs.host}:${theirs.port}` : 'missing'} on the proxy (omit --hostfile to use the proxy's agents)`,
      );
    }
  }
  return { endpoints, origin: `${endpoints.length} agent(s) of ${hostfile}` };
}

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

/** The one-line notices of an outage (stderr). */
export function describeOutage(event: RunNoticeEvent): string | undefined {
  if (event.type === 'lock-taken-over' || event.type === 'lock-lost') return undefined;
  const what = event.target === 'the agents' ? 'none of the agents' : event.target;
  const is = event.target === 'the agents' ? 'can be reached' : 'is unreachable';
  if (event.type === 'outage') {
    const every = `${formatDuration(event.retryIntervalMs / 1000)} to ${formatDuration(event.maxRetryIntervalMs / 1000)}`;
    return `${what} ${is}: waiting, retrying every ${every} for up to ${formatDuration(event.outageTimeoutMs / 1000)} (--outage-timeout); Ctrl-C to stop, rerun resumes`;
  }
  if (event.type === 'recovered') {
    return `${event.target} answer${event.target === 'the agents' ? '' : 's'} again after ${formatDuration(event.elapsedMs / 1000)}: carrying on (${event.heldBack} prompt(s) held back are sent again)`;
  }
  return `${event.target} ${event.target === 'the agents' ? 'have' : 'has'} been unreachable for ${formatDuration(event.elapsedMs / 1000)} (--outage-timeout): stopping; rerun the same command to resume`;
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
  const signals = new ShutdownSignals(io);
  try {
    const proxyUrl = resolveProxyUrl(flags, io);
    const token = flags.token ?? fromEnvironment(io, POOL_PROXY_TOKEN_ENV_VAR);
    const hostfile = flags.hostfile ?? fromEnvironment(io, HOSTFILE_ENV_VAR);
    // The files first: a results file that cannot be used is refused before the swarm is asked.
    await checkResultsPath(flags.out, flags.prompts);
    const { endpoints, origin } = await resolveEndpoints(hostfile, proxyUrl, token);
    const via = proxyUrl === undefined ? 'directly' : `through the proxy at ${proxyUrl}`;
    await using pool = new VLLMPool({
      endpoints,
      model: flags.model,
      proxyUrl: proxyUrl ?? null,
      proxyToken: token,
      concurrency: flags.concurrency,
      timeoutMs: flags.timeout * 1000,
      ...(flags.maxTokens === undefined ? {} : { maxTokens: flags.maxTokens }),
    });
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
          io.stderr(describePlan(plan, flags, origin, via));
          display.start(plan);
        },
        onResult: (_record, progress) => display.update(progress),
        onNotice: (message, event) => {
          const line = (event && describeOutage(event)) ?? message;
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
  const command = new Command('run')
    .description(
      'send every prompt of a file to the swarm and append each result to a JSONL file as it completes (resumable)',
    )
    .option(
      '-f, --hostfile <path>',
      `the agents (falls back to ${HOSTFILE_ENV_VAR}; optional with --proxy, which then supplies them)`,
    )
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
    )
    .option('-m, --model <name>', 'model name (default: the one the agents serve, from /v1/models)')
    .addOption(
      new Option(
        '--proxy <url>',
        `send everything through this aurora-swarm-proxy (falls back to ${PROXY_URL_ENV_VAR})`,
      ).argParser(urlArgument),
    )
    .option('--no-proxy', `connect to the agents directly, even if ${PROXY_URL_ENV_VAR} is set`)
    .option('--token <token>', `the proxy's token (falls back to ${POOL_PROXY_TOKEN_ENV_VAR})`)
    .addOption(
      new Option('-c, --concurrency <count>', 'most prompts in flight at once, all agents together')
        .argParser(positiveIntegerArgument)
        .default(DEFAULT_CONCURRENCY),
    )
    .addOption(
      new Option(
        '--max-tokens <count>',
        'upper bound on generated tokens per prompt (default: AURORA_SWARM_MAX_TOKENS, else 512; lowered to fit the context)',
      ).argParser(positiveIntegerArgument),
    )
    .addOption(
      new Option('-t, --timeout <seconds>', 'timeout of one prompt, in seconds')
        .argParser(positiveSecondsArgument)
        .default(DEFAULT_VLLM_POOL_TIMEOUT_MS / 1000),
    )
    .addOption(
      new Option(
        '--dispatch <policy>',
        'round-robin: prompt i to agent i % agents (the Python original); least-loaded: each prompt to the agent with the fewest prompts in flight, dead agents skipped, failed connections sent to another agent',
      )
        .choices(DISPATCH_POLICIES as string[])
        .default('round-robin'),
    )
    .option('--no-retry-failed', 'on a rerun, keep earlier failures instead of sending them again')
    .option(
      '--retry-all-failed',
      'on a rerun, also send again failures a retry cannot fix (context overflow, invalid request), e.g. after switching to a model with a longer context',
    )
    .addOption(
      new Option(
        '--outage-timeout <seconds>',
        'how long to wait for an unreachable proxy (or swarm) before stopping as interrupted',
      )
        .argParser(positiveSecondsArgument)
        .default(DEFAULT_OUTAGE_TIMEOUT_MS / 1000),
    )
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
