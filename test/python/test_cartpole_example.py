"""The CartPole example (examples/python) as a user runs it: against the default demo, whose learner publishes new policy versions."""
import os
import re
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_cartpole_actor_runs_a_few_hundred_steps_against_the_real_server():
    child = subprocess.Popen(
        ["node", "out/main/cli.js", "--port", "0", "--http-port", "0", "--metrics-port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        found, deadline = {}, time.time() + 60
        while time.time() < deadline and len(found) < 2:
            line = child.stdout.readline()
            m = re.match(r"^Inference HTTP: http://(\S+)", line) or re.match(r"^Token: (\S+)", line)
            if m:
                found["url" if line.startswith("Inference") else "token"] = m.group(1)
        assert len(found) == 2
        run = subprocess.run(
            [sys.executable, "examples/python/cartpole_actor.py", "--url", found["url"], f"--token={found['token']}", "--steps", "300"],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )
        assert run.returncode == 0, run.stderr
        m = re.match(r"^300 steps, (\d+) episodes, mean return ([\d.]+), policy versions \[(.+)\]$", run.stdout.strip())
        assert m, run.stdout
        assert float(m.group(2)) > 0
    finally:
        child.terminate()
        child.wait(timeout=30)
