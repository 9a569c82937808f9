/**
 * `npm run test:live -- --hostfile H [--proxy URL] [--model NAME] [--agents N]`: the
 * live suite (live/live-suite.test.ts) against any OpenAI-compatible swarm — a real
 * vLLM cluster, or the simulated one. Not part of `npm test`. Without --hostfile or
 * --proxy every test is skipped, and it says so.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const USAGE =
  'usage: npm run test:live -- --hostfile <path> [--proxy <url>] [--model <name>] [--agents <count>]';

let values: Record<string, string | boolean | undefined>;
try {
  ({ values } = parseArgs({
    options: {
      hostfile: { type: 'string', short: 'f' },
      proxy: { type: 'string' },
      model: { type: 'string' },
      agents: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (error) {
  process.stderr.write(`test:live: ${(error as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (values.agents !== undefined && !/^[1-9]\d*$/.test(String(values.agents))) {
  process.stderr.write(
    `test:live: --agents must be a positive integer, got ${JSON.stringify(values.agents)}\n`,
  );
  process.exit(2);
}
const env: NodeJS.ProcessEnv = { ...process.env };
const settings: Record<string, unknown> = {
  AURORA_LIVE_HOSTFILE: values.hostfile,
  AURORA_LIVE_PROXY: values.proxy,
  AURORA_LIVE_MODEL: values.model,
  AURORA_LIVE_AGENTS: values.agents,
};
for (const [name, value] of Object.entries(settings)) {
  if (typeof value === 'string') env[name] = value;
  else delete env[name];
}
const suite = fileURLToPath(new URL('./live-suite.test.js', import.meta.url));
const child = spawn(process.execPath, ['--test', '--test-reporter=spec', suite], {
  env,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
