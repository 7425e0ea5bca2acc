"""The CartPole example (examples/python) as a user runs it: against the default demo, whose learner publishes new policy versions."""
import re
import subprocess
import sys

from conftest import ROOT


def test_cartpole_actor_runs_a_few_hundred_steps_against_the_real_server(start_switchboard):
    server = start_switchboard()
    run = subprocess.run(
        [sys.executable, "examples/python/cartpole_actor.py", "--url", server.endpoints["http"],
         f"--token={server.endpoints['token']}", "--steps", "300"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    m = re.match(r"^300 steps, (\d+) episodes, mean return ([\d.]+), policy versions \[(.+)\]$", run.stdout.strip())
    assert m, run.stdout
    assert float(m.group(2)) > 0
