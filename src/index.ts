/**
 * aurora-swarm: drive a swarm of LLM agents from one script.
 * Everything public is exported here by name.
 */

// Errors
export {
  AbortedError,
  HostfileError,
  InvalidOptionError,
  PoolClosedError,
  SwarmError,
  type SwarmErrorCode,
  type SwarmErrorOptions,
} from './errors.js';

// Hostfile
export { type AgentEndpoint, createEndpoint } from './hostfile/agent-endpoint.js';
export { formatHostfile } from './hostfile/format-hostfile.js';
export {
  DEFAULT_AGENT_PORT,
  type ParseHostfileTextOptions,
  parseHostfileText,
} from './hostfile/parse-hostfile.js';
export { parseHostfile } from './hostfile/read-hostfile.js';
// Simulated agents
export {
  MockAgent,
  type MockAgentOptions,
  type MockAgentStats,
  type RecordedRequest,
  type SharedInFlight,
} from './mock/mock-agent.js';
export {
  DEFAULT_MOCK_BEHAVIOR,
  type MockAgentBehavior,
  type MockFailure,
  resolveMockBehavior,
} from './mock/mock-behavior.js';
export { type MockSwarm, type MockSwarmOptions, startMockSwarm } from './mock/mock-swarm.js';
// Pool contract
export type {
  AgentResponse,
  CallOptions,
  EmbeddingResponse,
  FailureKind,
  SwarmPool,
  TokenUsage,
} from './pool/types.js';

// Proxy
export { AgentStats } from './proxy/agent-stats.js';
export {
  formatLogLine,
  LOG_LEVELS,
  type LogLevel,
  type LogSink,
  PROXY_LOGGER_NAME,
  ProxyLogger,
  parseLogLevel,
} from './proxy/proxy-logger.js';
export {
  DEFAULT_CONNECTOR_LIMIT,
  DEFAULT_LOG_LEVEL,
  DEFAULT_PROXY_HOST,
  DEFAULT_PROXY_PORT,
  DEFAULT_SHUTDOWN_GRACE_SECONDS,
  DEFAULT_TIMEOUT_SECONDS,
  HOSTFILE_ENV_VAR,
  MAX_TIMEOUT_SECONDS,
  PROXY_TOKEN_ENV_VAR,
  type ProxyOptions,
  type ResolvedProxyOptions,
  resolveProxyOptions,
} from './proxy/proxy-options.js';
export { type RunningProxy, startProxy } from './proxy/proxy-server.js';
