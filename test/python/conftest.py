"""Starting the real headless product (out/main/cli.js, built by `npm run build`) for the Python tests."""
import os
import re
import subprocess
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# What the CLI prints at start, one per line, with the ports actually bound.
ENDPOINT_LINES = {
    "dashboard": r"^Dashboard: (\S+)",
    "http": r"^Inference HTTP: http://(\S+)",
    "grpc": r"^Inference gRPC: (\S+)",
    "metrics": r"^Metrics: (\S+)",
    "token": r"^Token: (\S+)",
}


class Switchboard:
    """One running product: its endpoints as printed, and its process."""

    def __init__(self, args, wanted=("http", "metrics", "token")):
        self.process = subprocess.Popen(
            ["node", "out/main/cli.js", "--port", "0", "--http-port", "0", "--grpc-port", "0", "--metrics-port", "0", *args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.endpoints, printed = {}, []
        deadline = time.time() + 60
        while time.time() < deadline and not set(wanted) <= set(self.endpoints):
            line = self.process.stdout.readline()
            if not line:
                break
            printed.append(line)
            for key, pattern in ENDPOINT_LINES.items():
                m = re.match(pattern, line)
                if m:
                    self.endpoints[key] = m.group(1)
        if not set(wanted) <= set(self.endpoints):
            self.stop()
            raise AssertionError(f"the server did not print {wanted}: {''.join(printed)}")

    @property
    def headers(self):
        # A new dict each time: tritonclient adds its own headers to the one it is given.
        return {"Authorization": f"Bearer {self.endpoints['token']}"}

    @property
    def grpc_headers(self):
        # gRPC metadata keys are lowercase.
        return {"authorization": f"Bearer {self.endpoints['token']}"}

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def wait_ready(client, model, headers, timeout_s=60):
    """Until the server serves `model` (the updater validates it first): a test that waits in vain fails saying so."""
    deadline = time.time() + timeout_s
    while not client.is_model_ready(model, headers=dict(headers)):
        assert time.time() < deadline, f"model {model} was not ready after {timeout_s} s"
        time.sleep(0.2)


def write_all_dtypes_model(path):
    """The Identity-per-dtype model (test/fixtures/models.ts), written with the project's own ONNX writer."""
    subprocess.run(["node_modules/.bin/tsx", "test/python/write_all_dtypes_model.ts", str(path)], cwd=ROOT, check=True)
    return path


@pytest.fixture(scope="module")
def start_switchboard():
    started = []

    def start(*args):
        server = Switchboard(args)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
