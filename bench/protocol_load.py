"""
The load of bench/protocol.ts: Triton's own asynchronous clients (tritonclient.http.aio and
tritonclient.grpc.aio), closed-loop. perf_analyzer would be the first choice, but PyPI serves only perf-analyzer 0.1.0
here, a placeholder without the binary; this client is what Python users run.

Long-lived, so that one interpreter's start-up is paid once: each line on stdin is one slice
to run, as JSON, and each answer one line of JSON on stdout:
  {"url": "127.0.0.1:8000", "model": "policy", "input": "obs", "output": "logits", "rows": 1, "cols": 64,
   "concurrency": 64, "duration_s": 1.5, "binary": true, "headers": {...}}
  "protocol" is "http" (the default), "grpc" (unary ModelInfer) or "grpc_stream" (one
  ModelStreamInfer stream with `concurrency` requests in flight on it).
  -> {"requests": n, "rows": n, "elapsed_s": s, "p50_ms": ms, "p99_ms": ms, "failed": n, "first_error": str|null,
      "client_cpu_cores": cores}
The input is encoded once and reused, as perf_analyzer does with its data; every request
is still serialised by the client (JSON or binary), as a real client's would be.
"""
import asyncio
import json
import sys
import time

import numpy as np
import tritonclient.grpc as grpc
import tritonclient.grpc.aio as grpc_aio
import tritonclient.http as http
import tritonclient.http.aio as aio


def values(spec):
    return np.random.default_rng(7).random((spec["rows"], spec["cols"]), dtype=np.float32)


def summary(spec, latencies, failed, first_error, t0, cpu0):
    elapsed = time.perf_counter() - t0
    ms = np.array(latencies) * 1000 if latencies else np.zeros(1)
    return {
        "requests": len(latencies),
        "rows": len(latencies) * spec["rows"],
        "elapsed_s": elapsed,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
        "failed": failed,
        "first_error": first_error,
        "client_cpu_cores": (time.process_time() - cpu0) / elapsed,
    }


async def closed_loop(spec, client, infer):
    """`concurrency` requesters, each sending its next request once the last is answered, for `duration_s`."""
    latencies, failed, first_error = [], 0, None
    cpu0, t0 = time.process_time(), time.perf_counter()
    end = t0 + spec["duration_s"]

    async def requester():
        nonlocal failed, first_error
        while time.perf_counter() < end:
            started = time.perf_counter()
            try:
                result = await infer()
                result.as_numpy(spec["output"])  # decoded, as a user would
                latencies.append(time.perf_counter() - started)
            except Exception as error:  # every failure is counted and the first one reported, none stops the load
                failed += 1
                first_error = first_error or str(error)[:300]

    try:
        await asyncio.gather(*(requester() for _ in range(spec["concurrency"])))
    finally:
        await client.close()
    return summary(spec, latencies, failed, first_error, t0, cpu0)


async def http_slice(spec):
    client = aio.InferenceServerClient(spec["url"], conn_limit=spec["concurrency"])
    tensor = http.InferInput(spec["input"], [spec["rows"], spec["cols"]], "FP32")
    tensor.set_data_from_numpy(values(spec), binary_data=spec["binary"])
    outputs = [http.InferRequestedOutput(spec["output"], binary_data=spec["binary"])]
    headers = dict(spec["headers"])
    if not spec["binary"]:
        # aiohttp labels a bytes body application/octet-stream, which MLServer refuses (422) for JSON.
        headers["Content-Type"] = "application/json"
    return await closed_loop(spec, client, lambda: client.infer(spec["model"], [tensor], outputs=outputs, headers=dict(headers)))


def grpc_input(spec):
    tensor = grpc.InferInput(spec["input"], [spec["rows"], spec["cols"]], "FP32")
    tensor.set_data_from_numpy(values(spec))
    return tensor


async def grpc_slice(spec):
    client = grpc_aio.InferenceServerClient(spec["url"])
    tensor, outputs = grpc_input(spec), [grpc.InferRequestedOutput(spec["output"])]
    return await closed_loop(spec, client, lambda: client.infer(spec["model"], [tensor], outputs=outputs, headers=spec["headers"]))


async def grpc_stream_slice(spec):
    client = grpc_aio.InferenceServerClient(spec["url"])
    tensor, outputs = grpc_input(spec), [grpc.InferRequestedOutput(spec["output"])]
    in_flight = asyncio.Semaphore(spec["concurrency"])
    sent_at, latencies, failed, first_error = {}, [], 0, None
    cpu0, t0 = time.process_time(), time.perf_counter()
    end = t0 + spec["duration_s"]

    async def requests():
        n = 0
        while True:
            await in_flight.acquire()
            if time.perf_counter() >= end:
                return
            n += 1
            sent_at[str(n)] = time.perf_counter()
            yield {"model_name": spec["model"], "inputs": [tensor], "outputs": outputs, "request_id": str(n)}

    try:
        async for result, error in client.stream_infer(requests(), headers=spec["headers"]):
            if error is not None:
                failed += 1
                first_error = first_error or str(error)[:300]
            else:
                result.as_numpy(spec["output"])
                latencies.append(time.perf_counter() - sent_at.pop(result.get_response().id))
            in_flight.release()
    finally:
        await client.close()
    return summary(spec, latencies, failed, first_error, t0, cpu0)


SLICES = {"http": http_slice, "grpc": grpc_slice, "grpc_stream": grpc_stream_slice}


def main():
    for line in sys.stdin:
        if line.strip():
            spec = json.loads(line)
            print(json.dumps(asyncio.run(SLICES[spec.get("protocol", "http")](spec))), flush=True)


if __name__ == "__main__":
    main()
