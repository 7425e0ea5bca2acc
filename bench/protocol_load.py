"""
The load of bench/protocol.ts: Triton's own asynchronous clients (tritonclient.http.aio and
tritonclient.grpc.aio), closed-loop. perf_analyzer would be the first choice, but PyPI serves only perf-analyzer 0.1.0
here, a placeholder without the binary; this client is what Python users run.

Long-lived, so that one interpreter's start-up is paid once: each line on stdin is one slice
to run, as JSON, and each answer one line of JSON on stdout:
  {"url": "127.0.0.1:8000", "model": "policy", "input": "obs", "output": "logits", "rows": 1, "cols": 64,
   "concurrency": 64, "duration_s": 1.5, "binary": true, "headers": {...}}
  "protocol" is "http" (the default), "grpc" (unary ModelInfer), "grpc_stream" (one
  ModelStreamInfer stream with `concurrency` requests in flight on it) or "grpc_shm" (unary
  ModelInfer with the input and the output in system shared memory, registered for the
  slice: one input region, and one output region where each requester has its place).
  -> {"requests": n, "rows": n, "elapsed_s": s, "p50_ms": ms, "p99_ms": ms, "failed": n, "first_error": str|null,
      "client_cpu_cores": cores}
The input is encoded once and reused, as perf_analyzer does with its data; every request
is still serialised by the client (JSON or binary), as a real client's would be.
"""
import asyncio
import json
import sys
import time
import uuid

import numpy as np
import tritonclient.grpc as grpc
import tritonclient.grpc.aio as grpc_aio
import tritonclient.http as http
import tritonclient.http.aio as aio
import tritonclient.utils.shared_memory as shm


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
    """`concurrency` requesters, each sending its next request once the last is answered, for `duration_s`; `infer(i)` is requester i's."""
    latencies, failed, first_error = [], 0, None
    cpu0, t0 = time.process_time(), time.perf_counter()
    end = t0 + spec["duration_s"]

    async def requester(index):
        nonlocal failed, first_error
        while time.perf_counter() < end:
            started = time.perf_counter()
            try:
                result = await infer(index)
                result.as_numpy(spec["output"])  # decoded, as a user would
                latencies.append(time.perf_counter() - started)
            except Exception as error:  # every failure is counted and the first one reported, none stops the load
                failed += 1
                first_error = first_error or str(error)[:300]

    try:
        await asyncio.gather(*(requester(i) for i in range(spec["concurrency"])))
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
    return await closed_loop(spec, client, lambda _i: client.infer(spec["model"], [tensor], outputs=outputs, headers=dict(headers)))


def grpc_input(spec):
    tensor = grpc.InferInput(spec["input"], [spec["rows"], spec["cols"]], "FP32")
    tensor.set_data_from_numpy(values(spec))
    return tensor


async def grpc_slice(spec):
    client = grpc_aio.InferenceServerClient(spec["url"])
    tensor, outputs = grpc_input(spec), [grpc.InferRequestedOutput(spec["output"])]
    return await closed_loop(spec, client, lambda _i: client.infer(spec["model"], [tensor], outputs=outputs, headers=spec["headers"]))


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


class ShmResult:
    """An answer whose output is in the requester's region: decoded from there, as a user would."""

    def __init__(self, handle, shape, offset):
        self.handle, self.shape, self.offset = handle, shape, offset

    def as_numpy(self, _name):
        return shm.get_contents_as_numpy(self.handle, np.float32, self.shape, offset=self.offset)


async def grpc_shm_slice(spec):
    """Two regions for the slice, as a client on the machine would lay them out: the input, written once and
    read by every request, and one output region with a place of its own for each requester."""
    setup = grpc.InferenceServerClient(spec["url"])
    client = grpc_aio.InferenceServerClient(spec["url"])
    headers = spec["headers"]
    data = values(spec)
    out_shape = [spec["rows"], spec["output_cols"]]
    out_bytes = spec["rows"] * spec["output_cols"] * 4
    tag = uuid.uuid4().hex[:8]
    in_name, out_name = f"bench_in_{tag}", f"bench_out_{tag}"
    in_handle = shm.create_shared_memory_region(in_name, "/" + in_name, data.nbytes)
    out_handle = shm.create_shared_memory_region(out_name, "/" + out_name, out_bytes * spec["concurrency"])
    try:
        shm.set_shared_memory_region(in_handle, [data])
        setup.register_system_shared_memory(in_name, "/" + in_name, data.nbytes, headers=dict(headers))
        setup.register_system_shared_memory(out_name, "/" + out_name, out_bytes * spec["concurrency"], headers=dict(headers))
        tensor = grpc.InferInput(spec["input"], [spec["rows"], spec["cols"]], "FP32")
        tensor.set_shared_memory(in_name, data.nbytes)
        outputs = []
        for i in range(spec["concurrency"]):
            output = grpc.InferRequestedOutput(spec["output"])
            output.set_shared_memory(out_name, out_bytes, offset=i * out_bytes)
            outputs.append(output)

        async def infer(index):
            # Requester i's place in the output region is its own: its next request waits for its last.
            await client.infer(spec["model"], [tensor], outputs=[outputs[index]], headers=headers)
            return ShmResult(out_handle, out_shape, index * out_bytes)

        return await closed_loop(spec, client, infer)
    finally:
        setup.unregister_system_shared_memory(headers=dict(headers))
        setup.close()
        shm.destroy_shared_memory_region(in_handle)
        shm.destroy_shared_memory_region(out_handle)


SLICES = {"http": http_slice, "grpc": grpc_slice, "grpc_stream": grpc_stream_slice, "grpc_shm": grpc_shm_slice}


def main():
    for line in sys.stdin:
        if line.strip():
            spec = json.loads(line)
            print(json.dumps(asyncio.run(SLICES[spec.get("protocol", "http")](spec))), flush=True)


if __name__ == "__main__":
    main()
