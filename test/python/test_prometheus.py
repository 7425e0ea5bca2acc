"""A real Prometheus server scrapes Switchboard's /metrics with the bearer token and answers a query for the model's nv_inference_count."""
import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import numpy as np
import pytest
import tritonclient.http as http

from conftest import wait_ready


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def query(prometheus_url, promql):
    url = f"{prometheus_url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)["data"]["result"]


def test_prometheus_scrapes_the_metrics_and_answers_for_the_model(start_switchboard, tmp_path):
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        pytest.skip("prometheus is not installed (Debian's prometheus package)")
    server = start_switchboard("--demo", "synthetic", "--load", "0")
    client = http.InferenceServerClient(server.endpoints["http"])
    wait_ready(client, "policy", server.headers)
    obs = http.InferInput("obs", [3, 64], "FP32")
    obs.set_data_from_numpy(np.ones((3, 64), np.float32))
    for _ in range(4):
        client.infer("policy", [obs], headers=server.headers)

    target = urllib.parse.urlsplit(server.endpoints["metrics"])
    token_file = tmp_path / "token"
    token_file.write_text(server.endpoints["token"])
    (tmp_path / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: switchboard\n"
        f"    metrics_path: {target.path}\n"
        f"    authorization: {{type: Bearer, credentials_file: {token_file}}}\n"
        f"    static_configs: [{{targets: ['{target.netloc}']}}]\n"
    )
    port = free_port()
    child = subprocess.Popen(
        [prometheus, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    url, result, health = f"http://127.0.0.1:{port}", [], []
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not result:
            try:
                result = query(url, 'nv_inference_count{model="policy",version="1"}')
                health = query(url, 'up{job="switchboard"}')
            except OSError:
                pass  # Prometheus not listening yet
            if not result:
                time.sleep(0.5)
    finally:
        child.terminate()
        _, stderr = child.communicate(timeout=30)
    assert result, f"Prometheus never had nv_inference_count for the model: {stderr[-2000:]}"
    assert float(result[0]["value"][1]) == 12  # 4 requests of 3 rows
    assert health and health[0]["value"][1] == "1"
