"""
The inference API over gRPC, driven by tritonclient.grpc against the real headless product:
health, metadata, infer (raw contents) agreeing with HTTP, every datatype, a stream of
1,000 requests with bad ones among them, statistics, the repository, and the status codes
of refusals.
"""
import queue

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from conftest import wait_ready, write_all_dtypes_model
from test_datatypes import CASES


@pytest.fixture(scope="module")
def server(start_switchboard):
    switchboard = start_switchboard("--demo", "synthetic", "--load", "0")
    client = grpcclient.InferenceServerClient(switchboard.endpoints["grpc"])
    wait_ready(client, "policy", switchboard.grpc_headers)
    return client, switchboard


def obs(rows, value=None):
    tensor = grpcclient.InferInput("obs", [rows, 64], "FP32")
    data = np.random.default_rng(rows).random((rows, 64), dtype=np.float32) if value is None else np.full((rows, 64), value, np.float32)
    tensor.set_data_from_numpy(data)
    return tensor, data


def status_of(error):
    return error.status() if isinstance(error, InferenceServerException) else None


def test_health_and_metadata(server):
    client, switchboard = server
    assert client.is_server_live() and client.is_server_ready()
    meta = client.get_server_metadata(headers=switchboard.grpc_headers, as_json=True)
    assert meta["name"] == "switchboard"
    model = client.get_model_metadata("policy", headers=switchboard.grpc_headers, as_json=True)
    assert model["inputs"] == [{"name": "obs", "datatype": "FP32", "shape": ["-1", "64"]}]


def test_infer_agrees_with_http_and_echoes_the_id(server):
    client, switchboard = server
    tensor, data = obs(5)
    result = client.infer("policy", [tensor], request_id="g-1", model_version="1", headers=switchboard.grpc_headers)
    assert result.get_response().id == "g-1" and result.get_response().model_version == "1"
    http = httpclient.InferenceServerClient(switchboard.endpoints["http"])
    same = httpclient.InferInput("obs", [5, 64], "FP32")
    same.set_data_from_numpy(data, binary_data=True)
    expected = http.infer("policy", [same], headers=switchboard.headers).as_numpy("logits")
    np.testing.assert_array_equal(result.as_numpy("logits"), expected)


def test_refusals_carry_the_protocol_status_codes(server):
    client, switchboard = server
    bad = grpcclient.InferInput("obs", [2, 63], "FP32")
    bad.set_data_from_numpy(np.zeros((2, 63), np.float32))
    with pytest.raises(InferenceServerException, match='"obs"') as refused:
        client.infer("policy", [bad], headers=switchboard.grpc_headers)
    assert status_of(refused.value) == "StatusCode.INVALID_ARGUMENT"
    tensor, _ = obs(1)
    with pytest.raises(InferenceServerException) as missing:
        client.infer("no_such_model", [tensor], headers=switchboard.grpc_headers)
    assert status_of(missing.value) == "StatusCode.NOT_FOUND"
    with pytest.raises(InferenceServerException) as version:
        client.infer("policy", [tensor], model_version="9", headers=switchboard.grpc_headers)
    assert status_of(version.value) == "StatusCode.NOT_FOUND"
    with pytest.raises(InferenceServerException) as unauthenticated:
        client.infer("policy", [tensor], headers={"authorization": "Bearer wrong-token-wrong-token"})
    assert status_of(unauthenticated.value) == "StatusCode.UNAUTHENTICATED"
    with pytest.raises(InferenceServerException) as no_token:
        client.get_server_metadata()
    assert status_of(no_token.value) == "StatusCode.UNAUTHENTICATED"


def test_a_stream_of_1000_answers_each_request_and_survives_bad_ones(server):
    client, switchboard = server
    answers = queue.Queue()
    client.start_stream(callback=lambda result, error: answers.put((result, error)), headers=switchboard.grpc_headers)
    bad_ids = {f"r{i}" for i in (10, 500, 999)}
    try:
        for i in range(1000):
            if f"r{i}" in bad_ids:
                tensor = grpcclient.InferInput("obs", [1, 3], "FP32")
                tensor.set_data_from_numpy(np.zeros((1, 3), np.float32))
            else:
                tensor, _ = obs(1, value=i / 1000)
            client.async_stream_infer("policy", [tensor], request_id=f"r{i}")
        got = [answers.get(timeout=60) for _ in range(1000)]
    finally:
        client.stop_stream()
    failed = [error for _, error in got if error is not None]
    assert len(failed) == 3 and all('"obs"' in str(e) for e in failed)
    ids = {result.get_response().id for result, error in got if error is None}
    assert ids == {f"r{i}" for i in range(1000)} - bad_ids


def test_statistics_config_and_repository(server):
    client, switchboard = server
    config = client.get_model_config("policy", headers=switchboard.grpc_headers, as_json=True)["config"]
    assert config["name"] == "policy" and config["max_batch_size"] > 0
    assert config["input"] == [{"name": "obs", "data_type": "TYPE_FP32", "dims": ["64"]}]
    assert config["instance_group"][0]["kind"] == "KIND_CPU" and "dynamic_batching" in config
    stats = client.get_inference_statistics("policy", headers=switchboard.grpc_headers, as_json=True)["model_stats"][0]
    assert stats["name"] == "policy" and int(stats["inference_count"]) >= 5
    index = client.get_model_repository_index(headers=switchboard.grpc_headers, as_json=True)["models"]
    assert {"name": "policy", "version": "1", "state": "READY"}.items() <= index[0].items()
    client.unload_model("policy", headers=switchboard.grpc_headers)
    assert not client.is_model_ready("policy", headers=switchboard.grpc_headers)
    client.load_model("policy", headers=switchboard.grpc_headers)
    assert client.is_model_ready("policy", headers=switchboard.grpc_headers)


def test_every_datatype_comes_back_exactly_as_raw_contents(start_switchboard, tmp_path):
    model = tmp_path / "all_dtypes.onnx"
    write_all_dtypes_model(model)
    switchboard = start_switchboard("--model", str(model), "--name", "all_dtypes")
    client = grpcclient.InferenceServerClient(switchboard.endpoints["grpc"])
    wait_ready(client, "all_dtypes", switchboard.grpc_headers)
    inputs = []
    for dtype, (datatype, values) in CASES.items():
        tensor = grpcclient.InferInput(f"x_{dtype}", list(values.shape), datatype)
        tensor.set_data_from_numpy(values)
        inputs.append(tensor)
    result = client.infer("all_dtypes", inputs, headers=switchboard.grpc_headers)
    for dtype, (_, values) in CASES.items():
        got = result.as_numpy(f"y_{dtype}")
        assert got.shape == values.shape, dtype
        if dtype == "string":
            assert got.tolist() == values.tolist()
        else:
            assert got.dtype == values.dtype, dtype
            np.testing.assert_array_equal(got, values, err_msg=dtype)
