"""
Switchboard's inference API driven by clients no one here wrote: Triton's tritonclient
(HTTP) and Prometheus's promtool, against the real headless product (out/main/cli.js, the
synthetic demo's policy MLP 64-256-256-8 in a temporary repository).
"""
import re
import shutil
import subprocess

import numpy as np
import pytest
import tritonclient.http as http
from tritonclient.utils import InferenceServerException

from conftest import wait_ready

# Triton's own metric names, which Prometheus's naming lint flags (no _total, _count and _us suffixes): kept for compatibility.
TRITON_NAMES = {
    "nv_inference_request_success", "nv_inference_request_failure", "nv_inference_count", "nv_inference_exec_count",
    "nv_inference_pending_request_count", "nv_inference_request_duration_us", "nv_inference_queue_duration_us",
    "nv_inference_compute_input_duration_us", "nv_inference_compute_infer_duration_us", "nv_inference_compute_output_duration_us",
}


@pytest.fixture(scope="module")
def server(start_switchboard):
    switchboard = start_switchboard("--demo", "synthetic", "--load", "0")
    client = http.InferenceServerClient(switchboard.endpoints["http"])
    wait_ready(client, "policy", switchboard.headers)
    return {**switchboard.endpoints, "client": client, "headers": switchboard.headers}


def auth(server):
    return dict(server["headers"])  # tritonclient adds its own headers to the dict it is given


def test_health_and_metadata(server):
    c = server["client"]
    assert c.is_server_live() and c.is_server_ready(headers=auth(server))
    meta = c.get_server_metadata(headers=auth(server))
    assert meta["name"] == "switchboard"
    assert {"binary_tensor_data", "statistics", "model_configuration", "model_repository"} <= set(meta["extensions"])
    model = c.get_model_metadata("policy", headers=auth(server))
    assert model["inputs"] == [{"name": "obs", "datatype": "FP32", "shape": [-1, 64]}]
    assert model["outputs"][0]["shape"] == [-1, 8]


@pytest.mark.parametrize("binary", [False, True])
def test_infer_json_and_binary_with_selection_and_id(server, binary):
    c = server["client"]
    x = np.random.default_rng(1).random((5, 64), dtype=np.float32)
    obs = http.InferInput("obs", [5, 64], "FP32")
    obs.set_data_from_numpy(x, binary_data=binary)
    out = http.InferRequestedOutput("logits", binary_data=binary)
    first = c.infer("policy", [obs], outputs=[out], request_id="req-7", headers=auth(server))
    again = c.infer("policy", [obs], model_version="1", headers=auth(server), request_compression_algorithm="gzip", response_compression_algorithm="gzip")
    assert first.get_response()["id"] == "req-7"
    assert first.get_response()["model_version"] == "1"
    assert first.as_numpy("logits").shape == (5, 8)
    np.testing.assert_array_equal(first.as_numpy("logits"), again.as_numpy("logits"))


def test_bad_input_names_the_tensor(server):
    c = server["client"]
    obs = http.InferInput("obs", [2, 63], "FP32")
    obs.set_data_from_numpy(np.zeros((2, 63), np.float32))
    with pytest.raises(InferenceServerException, match='"obs"'):
        c.infer("policy", [obs], headers=auth(server))
    wrong = http.InferInput("obs", [1, 64], "FP64")
    wrong.set_data_from_numpy(np.zeros((1, 64), np.float64))
    with pytest.raises(InferenceServerException, match='tensor "obs": datatype FP64'):
        c.infer("policy", [wrong], headers=auth(server))
    with pytest.raises(InferenceServerException, match="version 9"):
        c.infer("policy", [obs], model_version="9", headers=auth(server))
    with pytest.raises(InferenceServerException, match="token"):
        c.get_server_metadata(headers={"Authorization": "Bearer wrong-token-wrong-token"})


def test_promtool_finds_no_error_and_lints_only_triton_names(server):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian's prometheus package has it)")
    import urllib.request

    request = urllib.request.Request(server["metrics"], headers=auth(server))
    text = urllib.request.urlopen(request, timeout=10).read()
    assert re.search(rb'^nv_inference_count\{model="policy",version="1"\} \d+', text, re.M)
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True)
    assert result.returncode in (0, 3), result.stderr  # 3: lint findings only, no error
    findings = [line for line in (result.stdout + result.stderr).decode().splitlines() if line.strip()]
    flagged = {line.split()[0] for line in findings}
    assert flagged <= TRITON_NAMES, findings


def test_stats_config_and_repository(server):
    c = server["client"]
    stats = c.get_inference_statistics("policy", headers=auth(server))["model_stats"][0]
    assert stats["name"] == "policy" and stats["inference_count"] >= 10
    assert stats["inference_stats"]["success"]["count"] >= 2 and stats["execution_count"] >= 1
    config = c.get_model_config("policy", headers=auth(server))
    assert config["max_batch_size"] > 0 and config["input"][0]["dims"] == [64]
    index = c.get_model_repository_index(headers=auth(server))
    assert {"name": "policy", "version": "1", "state": "READY", "reason": ""} in index
    c.unload_model("policy", headers=auth(server))
    assert not c.is_model_ready("policy", headers=auth(server))
    c.load_model("policy", headers=auth(server))
    assert c.is_model_ready("policy", headers=auth(server))
