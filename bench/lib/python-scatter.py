#!/usr/bin/env python3
"""The Python original's scatter_gather over the benchmark's agents, for bench/client.ts.

Usage: python-scatter.py PATH_TO_PYTHON_ORIGINAL JSON_OPTIONS

PATH_TO_PYTHON_ORIGINAL is a checkout of brettin/Aurora-Swarm (its `main` line); only its
`aurora_swarm` package is imported, nothing of it is copied here. JSON_OPTIONS:
{"ports": [...], "prompts": N, "concurrency": 512, "model": "..."}.

It runs `scatter_gather(VLLMPool(endpoints, model, max_tokens=8, model_max_context=8192,
use_batch=False, concurrency=...), prompts)`: one chat completion per prompt over aiohttp, the
results held as a list, as our `scatterGather(pool, prompts)` does (use_batch=True would send
/v1/completions prompt lists through the openai SDK instead: that is our batch mode, measured
by bench/batch-mode.ts). `openai` is imported by vllm_pool.py at module level and an
`AsyncOpenAI` is built per agent, but with use_batch=False it is never called: when the
package is not installed (Debian 12 has no python3-openai) a stub stands in for it, which
makes Python's RSS *lower* than with the real SDK loaded (the comparison errs in Python's
favour). Prints one line `PYTHON DONE {...}` (peak RSS from getrusage, in MB).
"""

import asyncio
import json
import resource
import sys
import time
import types

sys.path.insert(0, sys.argv[1])
options = json.loads(sys.argv[2])

openai_stubbed = False
try:
    import openai  # noqa: F401
except ImportError:
    openai_stubbed = True
    stub = types.ModuleType("openai")

    class AsyncOpenAI:  # never called with use_batch=False
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    stub.AsyncOpenAI = AsyncOpenAI
    sys.modules["openai"] = stub

import aiohttp  # noqa: E402

from aurora_swarm.hostfile import AgentEndpoint  # noqa: E402
from aurora_swarm.patterns.scatter_gather import scatter_gather  # noqa: E402
from aurora_swarm.vllm_pool import VLLMPool  # noqa: E402


async def main():
    endpoints = [AgentEndpoint(host="127.0.0.1", port=port) for port in options["ports"]]
    count = options["prompts"]
    prompts = [f"Prompt number {index}: what is DNA?" for index in range(count)]
    pool = VLLMPool(
        endpoints,
        model=options["model"],
        max_tokens=8,
        model_max_context=8192,
        use_batch=False,
        concurrency=options["concurrency"],
    )
    started = time.perf_counter()
    cpu_started = time.process_time()
    try:
        responses = await scatter_gather(pool, prompts)
    finally:
        await pool.close()
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    succeeded = sum(1 for response in responses if response.success)
    first_error = next((r.error for r in responses if not r.success), None)
    summary = {
        "prompts": count,
        "succeeded": succeeded,
        "elapsedMs": elapsed * 1000,
        "requestsPerSecond": count / elapsed,
        "cpuUsPerRequest": cpu * 1e6 / count,
        # ru_maxrss is in kilobytes on Linux.
        "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "python": sys.version.split()[0],
        "aiohttp": aiohttp.__version__,
        "openaiStubbed": openai_stubbed,
    }
    if first_error is not None:
        summary["firstError"] = first_error
    print("PYTHON DONE " + json.dumps(summary), flush=True)
    del responses


asyncio.run(main())
