"`natron run` with papermill at the smoke size: a run killed mid-phase finishes with --resume (the whole chain of four phases runs in tests/test_wheel.py)."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd
import torch
import yaml

BIN = Path(sys.executable).parent
PARAMS = {"name": "pytest", "preset": "smoke", "n_bars": 1200, "seed": 0,        # two phases at their smallest useful size
          "phases": {"pretrain": {"epochs": 1, "max_batches": 10}, "rl": {"enabled": False}, "report": {"enabled": False}}}

def test_run_killed_mid_phase_then_resumed(tmp_path):
    params = tmp_path / "p.yaml"; params.write_text(yaml.safe_dump(PARAMS))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([str(BIN / "natron"), "run", str(params), "--outputs", str(tmp_path / "out")], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    runs = tmp_path / "out" / "runs"
    deadline = time.time() + 300
    while time.time() < deadline and not list(runs.glob("*/03_finetune.ipynb")): time.sleep(0.5)   # pretrain done, finetune started
    os.killpg(proc.pid, signal.SIGKILL); proc.wait()
    run_dir = next(runs.glob("*-pytest"))
    rec = json.loads((run_dir / "run.json").read_text())
    assert rec["phases"].get("pretrain") == "done" and rec["phases"].get("finetune") != "done"
    killed = subprocess.run([str(BIN / "natron"), "runs", "--outputs", str(tmp_path / "out")], capture_output=True, text=True).stdout
    assert run_dir.name in killed and "interrupted" in killed, killed      # SIGKILL said nothing: natron runs finds it
    encoder_mtime = (run_dir / "pretrain" / "encoder.pt").stat().st_mtime

    r = subprocess.run([str(BIN / "natron"), "run", "--resume", str(run_dir)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "pretrain: already done" in r.stdout + r.stderr
    assert (run_dir / "pretrain" / "encoder.pt").stat().st_mtime == encoder_mtime          # the finished phase did not run again
    rec = json.loads((run_dir / "run.json").read_text())
    assert rec["status"] == "done" and set(rec["phases"].values()) == {"done"}
    for name in ("natron_v2.pt", "metrics.json", "params.yaml", "02h_pretrain.ipynb", "03_finetune.ipynb"):
        assert (run_dir / name).exists(), name
    executed = json.loads((run_dir / "03_finetune.ipynb").read_text())["cells"]
    assert executed and not any("lesson" in c["metadata"].get("tags", []) for c in executed), "a run leaves out the notebook's lessons"
    assert (tmp_path / "out" / "latest").resolve() == run_dir.resolve()
    assert '"buy_prob"' in r.stdout and "natron serve --model" in r.stdout                 # the sample prediction and how to serve
    listing = subprocess.run([str(BIN / "natron"), "runs", "--outputs", str(tmp_path / "out")], capture_output=True, text=True).stdout
    assert run_dir.name in listing and "done" in listing


def _tiny(tmp_path, name) -> Path:
    "A finetune-only parameter file on a real stock's last 800 daily candles (shipped in an installed package): a run of a few seconds."
    from natron.data import load_candles
    load_candles("sample:stocks-daily", "AAPL").tail(800).reset_index().to_csv(tmp_path / "aapl.csv", index=False)
    params = {"name": name, "preset": "smoke", "data_path": str(tmp_path / "aapl.csv"), "seed": 0,
              "phases": {"pretrain": {"enabled": False}, "finetune": {"epochs": 1}, "rl": {"enabled": False}, "report": {"enabled": False}}}
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(params))
    return tmp_path / f"{name}.yaml"

def test_parallel_sweep_leaves_one_index_row_per_run(tmp_path):
    (tmp_path / "sweep.yaml").write_text(yaml.safe_dump({"name": "par", "base": str(_tiny(tmp_path, "base")), "grid": {"seed": list(range(4))}}))
    r = subprocess.run([str(BIN / "natron"), "sweep", str(tmp_path / "sweep.yaml"), "--jobs", "4", "--outputs", str(tmp_path / "out")],
                       cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    index = (tmp_path / "out" / "runs" / "index.csv").read_text().splitlines()
    assert index[0].startswith("id,name,status") and sum(line.startswith("id,") for line in index) == 1, "one header"
    runs = [line.split(",")[0] for line in index[1:]]
    assert len(runs) == 4 and set(runs) == {p.name for p in (tmp_path / "out" / "runs").iterdir() if p.is_dir()}
    assert [line.split(",")[2] for line in index[1:]] == ["done"] * 4
    table = pd.read_csv(next((tmp_path / "out" / "sweeps").glob("*-par")) / "comparison.csv")   # ranked on validation, winner first
    assert table["n_trials"].tolist()[0] == 4 and table["n_trials"].iloc[1:].isna().all(), table
    assert 0 <= table["dsr_over_sweep"].iloc[0] <= 1, "the winner's validation Sharpe, deflated over the four runs"
    assert f"validation DSR {table['dsr_over_sweep'].iloc[0]:.3f} over the 4 runs" in r.stdout, r.stdout[-2000:]

def test_resume_under_a_changed_learning_rate_refuses_unless_forced(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    natron = lambda *a: subprocess.run([str(BIN / "natron"), *map(str, a)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert natron("run", _tiny(tmp_path, "lr"), "--outputs", tmp_path / "out").returncode == 0
    run_dir = next((tmp_path / "out" / "runs").glob("*-lr"))
    stored_lr = torch.load(run_dir / "finetune" / "checkpoint_last.pt", weights_only=True)["config"]["lr"]
    rec = json.loads((run_dir / "run.json").read_text())              # as after a kill mid-finetune, then "edit run.json, resume"
    rec["status"], rec["phases"]["finetune"] = "failed", "failed"
    rec["params"]["phases"]["finetune"]["lr"] = stored_lr / 2
    (run_dir / "run.json").write_text(json.dumps(rec))
    refused = natron("run", "--resume", run_dir)
    assert refused.returncode == 1 and f"lr: {stored_lr!r} -> {stored_lr / 2!r}" in refused.stderr, refused.stderr[-3000:]
    assert "--force" in refused.stderr
    forced = natron("run", "--resume", run_dir, "--force")
    assert forced.returncode == 0, forced.stderr[-3000:]
    assert torch.load(run_dir / "finetune" / "checkpoint_last.pt", weights_only=True)["config"]["lr"] == stored_lr / 2
    assert (run_dir / "finetune" / "checkpoint_last.pt.stale").exists()
