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
export {
  Blackboard,
  type BlackboardConvergenceFunction,
  type BlackboardFailure,
  type BlackboardOptions,
  type BlackboardPromptFunction,
  type BlackboardRunOptions,
  type BlackboardRunResult,
  type BlackboardSnapshot,
  type BoardState,
  type BoardViewOptions,
  DEFAULT_MAX_ROUNDS,
} from './patterns/blackboard.js';
export { type BroadcastOptions, broadcast } from './patterns/broadcast.js';
// Patterns
export {
  type BroadcastAndReduceOptions,
  type BroadcastAndReduceResult,
  broadcastAndReduce,
  DEFAULT_REDUCER_AGENT_INDEX,
} from './patterns/broadcast-and-reduce.js';
export {
  type FanOutFanInOptions,
  type FanOutFanInResult,
  fanOutFanIn,
} from './patterns/fan-out-fan-in.js';
export { type MapGatherOptions, mapGather } from './patterns/map-gather.js';
export type { PatternOptions } from './patterns/pattern-options.js';
export {
  DEFAULT_REUSE_AGENTS,
  type PipelineResult,
  type PipelineStage,
  type PipelineStageResult,
  type RunPipelineOptions,
  runPipeline,
} from './patterns/run-pipeline.js';
export { type ScatterGatherOptions, scatterGather } from './patterns/scatter-gather.js';
export {
  type ScatterGatherEmbeddingsOptions,
  scatterGatherEmbeddings,
} from './patterns/scatter-gather-embeddings.js';
export {
  type ScatterGatherStreamOptions,
  type ScatterGatherStreamResult,
  type ScatterInput,
  type ScatterItem,
  scatterGatherStream,
} from './patterns/scatter-gather-stream.js';
export {
  DEFAULT_FANIN,
  type TreeReduceFailure,
  type TreeReduceFailureCause,
  type TreeReduceOptions,
  type TreeReduceResult,
  treeReduce,
} from './patterns/tree-reduce.js';
export { UNSENT_GLOBAL_INDEX } from './patterns/unsent-response.js';
// Pool contract
export type {
  AgentResponse,
  CallOptions,
  EmbeddingCallOptions,
  EmbeddingResponse,
  EmbeddingSwarmPool,
  FailureKind,
  SwarmPool,
  TokenUsage,
} from './pool/types.js';
