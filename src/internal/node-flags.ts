/**
 * Whether the user gave node a V8 flag of their own, on node's command line or in
 * NODE_OPTIONS: the CLI's processes set some flags for themselves (the proxy's workers'
 * young generation, the proxy's pretenuring) only when the user has not.
 */
export function nodeFlagGiven(
  pattern: RegExp,
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
): boolean {
  return [...execArgv, nodeOptions ?? ''].some((argument) => pattern.test(argument));
}
