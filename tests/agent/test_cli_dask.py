"""`--dask ADDRESS` reaches the executor: an unreachable scheduler is a clear error with exit code 1."""
from typer.testing import CliRunner

from hepilot.agent.cli import app


def test_batch_dask_option_reaches_the_executor(tmp_path):
    goals = tmp_path / "goals.yaml"
    goals.write_text("- what is the mass of the top quark\n")
    res = CliRunner().invoke(app, ["batch", str(goals), "--out", str(tmp_path / "runs"), "--dask", "tcp://127.0.0.1:1"])
    assert res.exit_code == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:1" in res.output
    assert "drop --dask to run locally" in res.output  # without the option the goal would have run here (exit 0)
