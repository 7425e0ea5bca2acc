"""
System shared memory, driven by tritonclient.utils.shared_memory with tritonclient.http and
tritonclient.grpc against the real headless product: inputs and outputs through regions,
status, the refusals of unsafe keys and references (which change nothing), and a stress
run of clients registering, using and unregistering regions while other requests run,
after which no descriptor is left open and every request was answered.
"""
import os
import threading
import urllib.request
import uuid

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
import tritonclient.utils.shared_memory as shm
from tritonclient.utils import InferenceServerException, serialize_byte_tensor

from conftest import wait_ready, write_all_dtypes_model
from test_datatypes import CASES

SHM = "/dev/shm"
PROTOCOLS = {"http": httpclient, "grpc": grpcclient}


@pytest.fixture(scope="module")
def server(start_switchboard):
    switchboard = start_switchboard("--demo", "synthetic", "--load", "0")
    http = httpclient.InferenceServerClient(switchboard.endpoints["http"], concurrency=4)
    wait_ready(http, "policy", switchboard.headers)
    return switchboard


def client_of(switchboard, protocol):
    if protocol == "http":
        return httpclient.InferenceServerClient(switchboard.endpoints["http"]), switchboard.headers
    return grpcclient.InferenceServerClient(switchboard.endpoints["grpc"]), switchboard.grpc_headers


def metric(switchboard, series):
    """One sample of the server's Prometheus metrics, by its series as the text format writes it."""
    request = urllib.request.Request(switchboard.endpoints["metrics"], headers=switchboard.headers)
    with urllib.request.urlopen(request) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(series + " "):
                return float(line.split(" ")[1])
    raise AssertionError(f"no series {series} in the metrics")


def unique_key(tag):
    return f"/sbtest_{tag}_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def regions():
    """Regions made for one test, destroyed after it whatever happened."""
    made = []

    def create(key, byte_size):
        handle = shm.create_shared_memory_region(key.strip("/"), key, byte_size)
        made.append(handle)
        return handle

    yield create
    for handle in made:
        shm.destroy_shared_memory_region(handle)


def reference_logits(switchboard, data):
    """What the same rows give with their data in the request body."""
    http = httpclient.InferenceServerClient(switchboard.endpoints["http"])
    tensor = httpclient.InferInput("obs", list(data.shape), "FP32")
    tensor.set_data_from_numpy(data, binary_data=True)
    return http.infer("policy", [tensor], headers=switchboard.headers).as_numpy("logits")


def shm_infer(module, client, headers, in_region, in_bytes, out_region, out_bytes, rows, in_offset=0):
    tensor = module.InferInput("obs", [rows, 64], "FP32")
    tensor.set_shared_memory(in_region, in_bytes, offset=in_offset)
    output = module.InferRequestedOutput("logits")
    output.set_shared_memory(out_region, out_bytes)
    return client.infer("policy", [tensor], outputs=[output], headers=dict(headers))


def output_shape(result, protocol):
    output = result.get_output("logits")
    return output["shape"] if protocol == "http" else list(output.shape)


def statuses(client, headers, protocol):
    """Registered regions as {name: (key, offset, byte_size)}, whichever protocol asks."""
    if protocol == "http":
        listed = client.get_system_shared_memory_status(headers=dict(headers))
        return {r["name"]: (r["key"], int(r["offset"]), int(r["byte_size"])) for r in listed}
    listed = client.get_system_shared_memory_status(headers=dict(headers), as_json=True).get("regions", {})
    return {name: (r["key"], int(r.get("offset", 0)), int(r["byte_size"])) for name, r in listed.items()}


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_inputs_and_outputs_through_shared_memory(server, regions, protocol):
    client, headers = client_of(server, protocol)
    rows = 6
    data = np.random.default_rng(7).random((rows, 64), dtype=np.float32)
    expected = reference_logits(server, data)
    in_key, out_key = unique_key("in"), unique_key("out")
    # The input sits 128 bytes into its object: the registered offset is honoured.
    in_handle = regions(in_key, 128 + data.nbytes)
    shm.set_shared_memory_region(in_handle, [data], offset=128)
    out_handle = regions(out_key, expected.nbytes)
    client.register_system_shared_memory(f"in_{protocol}", in_key, data.nbytes, offset=128, headers=dict(headers))
    client.register_system_shared_memory(f"out_{protocol}", out_key, expected.nbytes, headers=dict(headers))
    assert statuses(client, headers, protocol) == {
        f"in_{protocol}": (in_key, 128, data.nbytes),
        f"out_{protocol}": (out_key, 0, expected.nbytes),
    }
    assert metric(server, "switchboard_client_shm_regions") == 2
    assert metric(server, 'switchboard_client_shm_bytes{measure="registered"}') == data.nbytes + expected.nbytes
    result = shm_infer(
        PROTOCOLS[protocol], client, headers, f"in_{protocol}", data.nbytes, f"out_{protocol}", expected.nbytes, rows
    )
    shape = [int(d) for d in output_shape(result, protocol)]
    assert shape == list(expected.shape)
    np.testing.assert_array_equal(shm.get_contents_as_numpy(out_handle, np.float32, shape), expected)
    client.unregister_system_shared_memory(f"in_{protocol}", headers=dict(headers))
    assert list(statuses(client, headers, protocol)) == [f"out_{protocol}"]
    client.unregister_system_shared_memory(headers=dict(headers))  # no name: every region
    assert statuses(client, headers, protocol) == {}
    assert metric(server, "switchboard_client_shm_descriptors") == 0


@pytest.fixture(scope="module")
def all_dtypes(start_switchboard, tmp_path_factory):
    model = tmp_path_factory.mktemp("all_dtypes") / "all_dtypes.onnx"
    write_all_dtypes_model(model)
    switchboard = start_switchboard("--model", str(model), "--name", "all_dtypes")
    wait_ready(httpclient.InferenceServerClient(switchboard.endpoints["http"]), "all_dtypes", switchboard.headers)
    return switchboard


def region_bytes(values):
    """A tensor as it lies in a region: the binary extension's layout (BYTES elements length-prefixed)."""
    return serialize_byte_tensor(values) if values.dtype == np.object_ else values


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_every_datatype_through_one_input_and_one_output_region_at_offsets(all_dtypes, regions, protocol):
    client, headers = client_of(all_dtypes, protocol)
    module = PROTOCOLS[protocol]
    laid_out, at = [], 0
    for dtype, (datatype, values) in CASES.items():
        stored = region_bytes(values)
        size = len(stored.item()) if stored.dtype == np.object_ else stored.nbytes
        laid_out.append((dtype, datatype, values, stored, at, size))
        at += size + 5  # odd gaps: no tensor starts aligned to its element size, as offsets into a region need not be
    in_key, out_key = unique_key("dt_in"), unique_key("dt_out")
    in_handle, out_handle = regions(in_key, at), regions(out_key, at)
    for _, _, _, stored, offset, _ in laid_out:
        shm.set_shared_memory_region(in_handle, [stored], offset=offset)
    client.register_system_shared_memory("dt_in", in_key, at, headers=dict(headers))
    client.register_system_shared_memory("dt_out", out_key, at, headers=dict(headers))
    try:
        inputs, outputs = [], []
        for dtype, datatype, values, _, offset, size in laid_out:
            tensor = module.InferInput(f"x_{dtype}", list(values.shape), datatype)
            tensor.set_shared_memory("dt_in", size, offset=offset)
            inputs.append(tensor)
            output = module.InferRequestedOutput(f"y_{dtype}")
            output.set_shared_memory("dt_out", size, offset=offset)
            outputs.append(output)
        client.infer("all_dtypes", inputs, outputs=outputs, headers=dict(headers))
        for dtype, _, values, _, offset, _ in laid_out:
            np_type = np.object_ if dtype == "string" else values.dtype
            got = shm.get_contents_as_numpy(out_handle, np_type, list(values.shape), offset=offset)
            if dtype == "string":
                assert [[bytes(v) for v in row] for row in got] == values.tolist(), dtype
            else:
                np.testing.assert_array_equal(got, values, err_msg=dtype)
    finally:
        client.unregister_system_shared_memory(headers=dict(headers))


def refused(call):
    with pytest.raises(InferenceServerException) as caught:
        call()
    return caught.value


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_unsafe_keys_and_bad_references_are_refused_and_change_nothing(server, regions, protocol):
    client, headers = client_of(server, protocol)
    h = lambda: dict(headers)  # noqa: E731 - tritonclient adds to the dict it is given
    key = unique_key("ok")
    regions(key, 4096)
    client.register_system_shared_memory("kept", key, 4096, headers=h())
    try:
        for bad_key in ["/../etc/passwd", "/..sbtest", "/sbtest/inner", "sb test", ""]:
            error = refused(lambda: client.register_system_shared_memory("bad", bad_key, 16, headers=h()))
            assert "key" in error.message()
        link = f"{SHM}/sbtest_link_{uuid.uuid4().hex[:8]}"
        os.symlink(f"{SHM}/{key.strip('/')}", link)
        try:
            assert "symlink" in refused(
                lambda: client.register_system_shared_memory("bad", "/" + os.path.basename(link), 16, headers=h())
            ).message()
        finally:
            os.unlink(link)
        assert "past the end" in refused(lambda: client.register_system_shared_memory("bad", key, 8192, headers=h())).message()
        assert "past the end" in refused(
            lambda: client.register_system_shared_memory("bad", key, 4096, offset=1, headers=h())
        ).message()
        assert "already registered" in refused(lambda: client.register_system_shared_memory("kept", key, 16, headers=h())).message()
        assert "no shared-memory object" in refused(
            lambda: client.register_system_shared_memory("bad", unique_key("missing"), 16, headers=h())
        ).message()
        module = PROTOCOLS[protocol]
        bytes_in = 2 * 64 * 4
        assert "not registered" in refused(
            lambda: shm_infer(module, client, headers, "nowhere", bytes_in, "kept", 64, 2)
        ).message()
        assert "past the end" in refused(
            lambda: shm_infer(module, client, headers, "kept", bytes_in, "kept", 64, 2, in_offset=4096 - bytes_in + 4)
        ).message()
        assert "byte_size" in refused(lambda: shm_infer(module, client, headers, "kept", bytes_in - 4, "kept", 64, 2)).message()
        # The output (2 x 8 FP32 logits, 64 bytes) does not fit 32 bytes: refused, and said so.
        assert "output" in refused(lambda: shm_infer(module, client, headers, "kept", bytes_in, "kept", 32, 2)).message()
        unauthorised = refused(lambda: client.register_system_shared_memory("bad", key, 16))
        assert (unauthorised.status() in ("401", "StatusCode.UNAUTHENTICATED"))
        assert statuses(client, headers, protocol) == {"kept": (key, 0, 4096)}
    finally:
        client.unregister_system_shared_memory(headers=h())


@pytest.mark.skipif(os.geteuid() != 0, reason="making an object of another user needs root (chown)")
def test_an_object_of_another_user_is_refused(server):
    client, headers = client_of(server, "http")
    name = f"sbtest_other_{uuid.uuid4().hex[:8]}"
    path = f"{SHM}/{name}"
    with open(path, "wb") as f:
        f.write(b"\0" * 64)
    os.chown(path, 65534, 65534)
    try:
        error = refused(lambda: client.register_system_shared_memory("other", "/" + name, 64, headers=dict(headers)))
        assert "belongs to user 65534" in error.message()
        assert statuses(client, headers, "http") == {}
    finally:
        os.unlink(path)


def shm_descriptors(pid):
    """The server's open descriptors on shared-memory objects, from /proc/<pid>/fd."""
    links = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            links.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except FileNotFoundError:  # closed while listed
            continue
    return [link for link in links if link.startswith(SHM + "/")]


def test_stress_registering_using_and_unregistering_leaks_nothing_and_loses_nothing(server):
    pid = server.process.pid
    before = len(os.listdir(f"/proc/{pid}/fd"))
    errors, answered = [], {"shm": 0, "plain": 0}
    lock = threading.Lock()
    stop = threading.Event()
    rounds = 25

    def shm_client(worker):
        protocol = "http" if worker % 2 == 0 else "grpc"
        client, headers = client_of(server, protocol)
        module = PROTOCOLS[protocol]
        try:
            for i in range(rounds):
                rows = 1 + (worker + i) % 8
                data = np.full((rows, 64), float(worker * 100 + i) / 1000, np.float32)
                in_key, out_key = unique_key(f"s{worker}i"), unique_key(f"s{worker}o")
                in_handle = shm.create_shared_memory_region(in_key.strip("/"), in_key, data.nbytes)
                out_handle = shm.create_shared_memory_region(out_key.strip("/"), out_key, rows * 8 * 4)
                try:
                    shm.set_shared_memory_region(in_handle, [data])
                    name = f"w{worker}_{i}"
                    client.register_system_shared_memory(name + "i", in_key, data.nbytes, headers=dict(headers))
                    client.register_system_shared_memory(name + "o", out_key, rows * 32, headers=dict(headers))
                    shm_infer(module, client, headers, name + "i", data.nbytes, name + "o", rows * 32, rows)
                    got = shm.get_contents_as_numpy(out_handle, np.float32, [rows, 8])
                    np.testing.assert_array_equal(got, reference_logits(server, data))
                    client.unregister_system_shared_memory(name + "i", headers=dict(headers))
                    client.unregister_system_shared_memory(name + "o", headers=dict(headers))
                    with lock:
                        answered["shm"] += 1
                finally:
                    shm.destroy_shared_memory_region(in_handle)
                    shm.destroy_shared_memory_region(out_handle)
        except Exception as error:  # noqa: BLE001 - reported by the test below, with the worker's name
            errors.append(f"worker {worker}: {error!r}")

    def plain_client():
        client, headers = client_of(server, "grpc")
        data = np.ones((4, 64), np.float32)
        while not stop.is_set():
            tensor = grpcclient.InferInput("obs", [4, 64], "FP32")
            tensor.set_data_from_numpy(data)
            try:
                assert client.infer("policy", [tensor], headers=dict(headers)).as_numpy("logits").shape == (4, 8)
                with lock:
                    answered["plain"] += 1
            except Exception as error:  # noqa: BLE001 - as above
                errors.append(f"plain: {error!r}")
                return

    threads = [threading.Thread(target=shm_client, args=(w,)) for w in range(4)]
    background = threading.Thread(target=plain_client)
    background.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stop.set()
    background.join()
    assert errors == []
    assert answered["shm"] == 4 * rounds and answered["plain"] > 0
    client, headers = client_of(server, "http")
    assert statuses(client, headers, "http") == {}
    assert shm_descriptors(pid) == []
    # Sockets come and go with the clients' connections; shared-memory descriptors are counted exactly above.
    after = len(os.listdir(f"/proc/{pid}/fd"))
    assert after <= before + 16, f"{after - before} more descriptors than before the stress run"
