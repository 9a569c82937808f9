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

// Pool contract
export type {
  AgentResponse,
  CallOptions,
  EmbeddingResponse,
  FailureKind,
  SwarmPool,
  TokenUsage,
} from './pool/types.js';

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
