/**
 * aurora-swarm: drive a swarm of LLM agents from one script.
 * Everything public is exported here by name.
 */

export {
  type AggregatorOptions,
  DEFAULT_INCLUDE_FAILURES,
} from './aggregators/aggregator-options.js';
export { bestOf, NO_RESPONSES_ERROR } from './aggregators/best-of.js';
export { type ConcatOptions, concat, DEFAULT_CONCAT_SEPARATOR } from './aggregators/concat.js';
export {
  classifyFailure,
  FAILURE_CAUSES,
  type FailureCause,
  type FailureEntry,
  type FailureReport,
  failureReport,
} from './aggregators/failure-report.js';
export {
  type MajorityVoteOptions,
  type MajorityVoteResult,
  type MajorityVoteTally,
  majorityVote,
  normalizeAnswer,
} from './aggregators/majority-vote.js';
export {
  type MergeObjectsConflict,
  type MergeObjectsError,
  type MergeObjectsResult,
  mergeObjects,
} from './aggregators/merge-objects.js';
export { parsePythonFloat } from './aggregators/parse-python-float.js';
export type { ResponseScore } from './aggregators/rank-responses.js';
export {
  extractFirstNumber,
  type StatisticsOptions,
  type StatisticsResult,
  statistics,
} from './aggregators/statistics.js';
export {
  type StructuredMergeError,
  type StructuredMergeResult,
  structuredMerge,
} from './aggregators/structured-merge.js';
export { topK } from './aggregators/top-k.js';
export {
  AbortedError,
  FileLockedError,
  type FileLockHolder,
  HostfileError,
  InputFileError,
  InvalidArgumentError,
  InvalidOptionError,
  OutageTimeoutError,
  PipelineStageError,
  PoolClosedError,
  ProxyStartError,
  RedisJobError,
  type RedisJobErrorCode,
  SwarmError,
  type SwarmErrorCode,
  type SwarmErrorOptions,
} from './errors.js';
export { type AgentEndpoint, createEndpoint } from './hostfile/agent-endpoint.js';
export { formatHostfile } from './hostfile/format-hostfile.js';
export { parseHostfile } from './hostfile/parse-hostfile.js';
export {
  DEFAULT_AGENT_PORT,
  type ParseHostfileTextOptions,
  parseHostfileText,
} from './hostfile/parse-hostfile-text.js';
export type { CollectOptions, CollectSummary } from './job/collect-results.js';
export type { JobPrompt } from './job/job-result-record.js';
export type { JobStatus, JobWorkerStatus } from './job/job-status.js';
export {
  DEFAULT_REDIS_CONNECT_TIMEOUT_MS,
  REDIS_PASSWORD_ENV_VAR,
  REDIS_URL_ENV_VAR,
  type RedisOutageEvent,
} from './job/redis-connection.js';
export { RedisJob, type RedisJobOptions } from './job/redis-job.js';
export type { SubmitSummary } from './job/submit-prompts.js';
export {
  DEFAULT_LEASE_SECONDS,
  DEFAULT_MAX_DELIVERIES,
  DEFAULT_WORKER_CONCURRENCY,
  type JobPromptHandler,
  type WorkOptions,
  type WorkProgress,
  type WorkSummary,
} from './job/work-queue.js';
export {
  DEFAULT_MOCK_BEHAVIOR,
  type MockAgentBehavior,
  type MockFailure,
  type MockReasoning,
  type MockTask,
  resolveMockBehavior,
  type VllmDialect,
} from './mock/mock-behavior.js';
export { type MockSwarm, type MockSwarmOptions, startMockSwarm } from './mock/mock-swarm.js';
export {
  type RecordedRequest,
  type SharedInFlight,
  SimulatedAgent,
  type SimulatedAgentOptions,
  type SimulatedAgentStats,
} from './mock/simulated-agent.js';
export {
  Blackboard,
  type BlackboardConvergenceFunction,
  type BlackboardFailure,
  type BlackboardOptions,
  type BlackboardPromptFunction,
  type BlackboardRunDetails,
  type BlackboardRunOptions,
  type BlackboardSectionEvent,
  type BlackboardSnapshot,
  type BoardState,
  type BoardViewOptions,
  DEFAULT_MAX_ROUNDS,
} from './patterns/blackboard.js';
export { type BroadcastOptions, broadcast } from './patterns/broadcast.js';
export {
  type BroadcastAndReduceDetails,
  type BroadcastAndReduceOptions,
  broadcastAndReduce,
  broadcastAndReduceDetails,
  DEFAULT_REDUCER_AGENT_INDEX,
} from './patterns/broadcast-and-reduce.js';
export {
  type ConsensusOptions,
  type ConsensusResult,
  consensus,
} from './patterns/consensus.js';
export {
  type FanOutFanInDetails,
  type FanOutFanInOptions,
  fanOutFanIn,
  fanOutFanInDetails,
} from './patterns/fan-out-fan-in.js';
export { type MapGatherOptions, mapGather } from './patterns/map-gather.js';
export type { PatternOptions, ScatterOptions } from './patterns/pattern-options.js';
export {
  DEFAULT_REUSE_AGENTS,
  type PipelineDetails,
  type PipelineStage,
  type PipelineStageResult,
  type RunPipelineOptions,
  runPipeline,
  runPipelineDetails,
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
  type TreeReduceDetails,
  type TreeReduceFailure,
  type TreeReduceFailureCause,
  type TreeReduceOptions,
  treeReduce,
  treeReduceDetails,
} from './patterns/tree-reduce.js';
export { UNSENT_GLOBAL_INDEX } from './patterns/unsent-response.js';
export type { AgentRequestInit, OpenAIClientConfig } from './pool/agent-access.js';
export { AgentPool, type AgentPoolOptions, resolveAgentPoolOptions } from './pool/agent-pool.js';
export type { AgentHealthReport } from './pool/agent-states.js';
export { DEFAULT_MAX_HEDGES } from './pool/call-options.js';
export type { BreakerState } from './pool/circuit-breaker.js';
export {
  DEFAULT_EMBEDDING_POOL_TIMEOUT_MS,
  EmbeddingPool,
  type EmbeddingPoolOptions,
  type ResolvedEmbeddingPoolOptions,
  resolveEmbeddingPoolOptions,
} from './pool/embedding-pool.js';
export {
  FAILURE_KINDS,
  type FailureKindInfo,
  isRetryableFailureKind,
} from './pool/failure-kind.js';
export {
  type BreakerOptions,
  DEFAULT_AGENT_POOL_TIMEOUT_MS,
  DEFAULT_BREAKER_COOLDOWN_MS,
  DEFAULT_BREAKER_FAILURES,
  DEFAULT_CONCURRENCY,
  DEFAULT_MAX_RETRIES,
  DEFAULT_POOL_CONNECTOR_LIMIT,
  DEFAULT_RETRY_DELAY_MS,
  type PoolEnvironment,
  type PoolOptions,
  PROXY_URL_ENV_VAR,
  type ResolvedBreakerOptions,
  type ResolvedPoolOptions,
} from './pool/pool-options.js';
export { StreamingCall } from './pool/streaming-call.js';
export type {
  AgentResponse,
  CallOptions,
  DispatchPolicy,
  EmbeddingCallOptions,
  EmbeddingResponse,
  EmbeddingSwarmPool,
  FailureKind,
  SendAllOptions,
  SwarmPool,
  TokenUsage,
} from './pool/types.js';
export { VLLMPool } from './pool/vllm-pool.js';
export {
  batchTimeoutMs,
  DEFAULT_BATCH_CONCURRENCY,
  DEFAULT_CONTEXT_BUFFER_TOKENS,
  DEFAULT_MAX_TOKENS,
  DEFAULT_MODEL_MAX_CONTEXT,
  DEFAULT_TIMEOUT_PER_SEQUENCE_MS,
  DEFAULT_VLLM_POOL_TIMEOUT_MS,
  MAX_TOKENS_AGGREGATION_ENV_VAR,
  MAX_TOKENS_ENV_VAR,
  MIN_SIZED_MAX_TOKENS,
  MODEL_MAX_CONTEXT_ENV_VAR,
  type ResolvedVLLMPoolOptions,
  resolveVLLMPoolOptions,
  sizeMaxTokens,
  TIMEOUT_PER_SEQUENCE_ENV_VAR,
  type VLLMPoolOptions,
} from './pool/vllm-pool-options.js';
export { AgentStats, type AgentStatsJson } from './proxy/agents/agent-stats.js';
export type { Percentiles } from './proxy/agents/sample-ring.js';
export { AGENT_TAG_HEADER, SESSION_ID_HEADER } from './proxy/forward/hop-by-hop-headers.js';
export {
  DEFAULT_BODY_IDLE_TIMEOUT_SECONDS,
  DEFAULT_HEADERS_TIMEOUT_SECONDS,
  DEFAULT_MAX_BODY_SIZE_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_HEADER_SIZE_BYTES,
  MAX_HEADER_COUNT,
  type ProxyLimitOptions,
  parseSizeBytes,
  type ResolvedProxyLimits,
  resolveProxyLimits,
} from './proxy/guards/proxy-limits.js';
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
  DEFAULT_HEALTH_CONCURRENCY,
  DEFAULT_HEALTH_INTERVAL_SECONDS,
  DEFAULT_HEALTH_TIMEOUT_SECONDS,
  DEFAULT_HEALTHY_THRESHOLD,
  DEFAULT_LOG_LEVEL,
  DEFAULT_PROXY_HOST,
  DEFAULT_PROXY_PORT,
  DEFAULT_SHUTDOWN_GRACE_SECONDS,
  DEFAULT_TIMEOUT_SECONDS,
  DEFAULT_UNHEALTHY_THRESHOLD,
  HOSTFILE_ENV_VAR,
  MAX_TIMEOUT_SECONDS,
  PROXY_TOKEN_ENV_VAR,
  type ProxyOptions,
  type ResolvedProxyOptions,
  resolveProxyOptions,
} from './proxy/proxy-options.js';
export type { RunningProxy } from './proxy/running-proxy.js';
export type { EndpointStatusJson, ProxyStatusJson } from './proxy/status-page/proxy-status.js';
export {
  AGENT_INDEX_HEADER,
  MAX_POOLED_ATTEMPTS,
  MAX_REPLAYABLE_BODY_BYTES,
  METRICS_PREFIX,
  startProxy,
} from './proxy-entry.js';
export {
  DEFAULT_PROBE_CONCURRENCY,
  DEFAULT_PROBE_TIMEOUT_SECONDS,
  DEFAULT_WAIT_INTERVAL_SECONDS,
  DEFAULT_WAIT_TIMEOUT_SECONDS,
  type WaitForAgentsOptions,
  type WaitForAgentsResult,
  waitForAgents,
} from './readiness/wait-for-agents.js';
export {
  DEFAULT_OUTAGE_MAX_RETRY_INTERVAL_MS,
  DEFAULT_OUTAGE_RETRY_INTERVAL_MS,
  DEFAULT_OUTAGE_TIMEOUT_MS,
  isOutageSuspect,
  type OutageEvent,
  OutageGuard,
  type OutageGuardOptions,
  type OutageNotice,
  type OutageProbe,
} from './run/outage-guard.js';
export {
  type PromptFileFormat,
  type PromptFileSummary,
  type PromptId,
  type PromptRecord,
  promptIdKey,
  readPromptFile,
  scanPromptFile,
} from './run/prompt-file.js';
export {
  checkResultsPath,
  type LoadPreviousResultsOptions,
  loadPreviousResults,
  type PreviousResults,
  type ResultRecord,
  ResultWriter,
  toResultRecord,
} from './run/result-file.js';
export {
  type LockResultsFileOptions,
  lockResultsFile,
  RESULTS_LOCK_STALE_MS,
  RESULTS_LOCK_UPDATE_MS,
  type ResultsLock,
} from './run/results-lock.js';
export {
  type RunFailureGroup,
  type RunNoticeEvent,
  type RunPlan,
  type RunProgress,
  type RunPromptFileOptions,
  type RunStopReason,
  type RunSummary,
  runPromptFile,
} from './run/run-prompt-file.js';
export {
  DEFAULT_REACHABILITY_PROBE_TIMEOUT_MS,
  SwarmReachability,
  type SwarmReachabilityOptions,
} from './run/swarm-reachability.js';
export {
  DEFAULT_KERNEL,
  type KernelLanguageEntropyOptions,
  type KernelLanguageEntropyResult,
  type KernelName,
  kernelLanguageEntropy,
  kernelLanguageEntropyDetails,
} from './uq/kernel-language-entropy.js';
export {
  DEFAULT_EIGENVALUE_FLOOR,
  densityMatrixFromKernel,
  type KernelMatrixOptions,
  kernelMatrix,
  type VonNeumannEntropyOptions,
  vonNeumannEntropy,
} from './uq/kernel-matrix.js';
export {
  DEFAULT_PROBE_FIT_INTERCEPT,
  DEFAULT_PROBE_LAMBDA,
  type Probe,
  predictSemanticEntropy,
  type TrainProbeOptions,
  trainProbe,
} from './uq/ridge-probe.js';
export {
  clusterEmbeddings,
  DEFAULT_LINKAGE_METHOD,
  DEFAULT_SIMILARITY_THRESHOLD,
  type LinkageMethod,
  type SemanticEntropyOptions,
  type SemanticEntropyResult,
  semanticEntropy,
  semanticEntropyDetails,
} from './uq/semantic-entropy.js';
export {
  type NpyArray,
  readNpy,
  readNpyMatrix,
  readNpyVector,
  readNpz,
} from './uq-files/npy-file.js';
export { loadProbe, saveProbe } from './uq-files/probe-file.js';
