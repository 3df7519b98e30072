"""A run killed with SIGKILL resumes from its checkpoint; finished tool calls are reused, not recomputed."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _events(run_dir: Path) -> list[dict]:
    trace = run_dir / "trace.jsonl"
    return [json.loads(x) for x in trace.read_text().splitlines()] if trace.is_file() else []


@pytest.mark.slow
def test_sigkill_then_resume(tmp_path):
    env = {**os.environ, "HEPILOT_CACHE_DIR": str(tmp_path / "cache")}
    goal = "Generate 60 W and 60 QCD jets with pT between 550 and 650 GeV with seed 3 and train a BDT tagger"
    proc = subprocess.Popen([sys.executable, "-m", "hepilot.agent", "run", goal, "--out", str(tmp_path / "runs")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 600
    run_dir = None
    while time.time() < deadline:
        runs = list((tmp_path / "runs").glob("*/trace.jsonl"))
        if runs:
            run_dir = runs[0].parent
            if any(e["event"] == "tool" and e["tool"] == "generate_jets" for e in _events(run_dir)):
                break
        if proc.poll() is not None:
            pytest.fail("the run ended before it could be killed")
        time.sleep(0.2)
    else:
        pytest.fail("generate_jets did not finish in time")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run_dir / "results.json").exists()  # killed before the report
    out = subprocess.run([sys.executable, "-m", "hepilot.agent", "resume", run_dir.name, "--out", str(tmp_path / "runs"),
                          "--json"], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["status"] == "done"
    assert [r["tool"] for r in results["records"]] == ["generate_jets", "jet_features", "train_bdt"]
    gen_calls = [e for e in _events(run_dir) if e["event"] == "tool" and e["tool"] == "generate_jets"]
    # generate_jets ran once before the kill; after the resume it is never recomputed
    assert all(e["cached"] for e in gen_calls[1:])
    assert results["records"][0]["cached"] or len(gen_calls) == 1
