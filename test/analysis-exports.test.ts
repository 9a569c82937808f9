import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bestOf,
  classifyFailure,
  concat,
  DEFAULT_CONCAT_SEPARATOR,
  DEFAULT_INCLUDE_FAILURES,
  DEFAULT_KERNEL,
  DEFAULT_PROBE_LAMBDA,
  DEFAULT_SIMILARITY_THRESHOLD,
  extractFirstNumber,
  failureReport,
  kernelLanguageEntropy,
  kernelLanguageEntropyDetails,
  loadProbe,
  majorityVote,
  normalizeAnswer,
  predictSemanticEntropy,
  saveProbe,
  semanticEntropy,
  semanticEntropyDetails,
  statistics,
  structuredMerge,
  topK,
  trainProbe,
} from '../src/index.js';

test('aggregators and UQ are exported from the package root', () => {
  const functions = [
    majorityVote,
    concat,
    bestOf,
    topK,
    structuredMerge,
    statistics,
    failureReport,
    classifyFailure,
    normalizeAnswer,
    extractFirstNumber,
    semanticEntropy,
    semanticEntropyDetails,
    kernelLanguageEntropy,
    kernelLanguageEntropyDetails,
    trainProbe,
    predictSemanticEntropy,
    saveProbe,
    loadProbe,
  ];
  for (const exported of functions) assert.equal(typeof exported, 'function');
  assert.equal(DEFAULT_SIMILARITY_THRESHOLD, 0.9);
  assert.equal(DEFAULT_PROBE_LAMBDA, 1);
  assert.equal(DEFAULT_CONCAT_SEPARATOR, '\n');
  assert.equal(DEFAULT_KERNEL, 'cosine');
  assert.equal(DEFAULT_INCLUDE_FAILURES, false);
});
