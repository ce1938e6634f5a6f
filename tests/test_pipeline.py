"`natron run` end to end with papermill, every phase at the smoke size; a run killed mid-phase finishes with --resume."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import yaml

BIN = Path(sys.executable).parent
PARAMS = {"name": "pytest", "preset": "smoke", "n_bars": 1200, "seed": 0,
          "phases": {"pretrain": {"epochs": 1}, "rl": {"seeds": 2}, "report": {"walk_forward_folds": 2}}}

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
    encoder_mtime = (run_dir / "pretrain" / "encoder.pt").stat().st_mtime

    r = subprocess.run([str(BIN / "natron"), "run", "--resume", str(run_dir)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "pretrain: already done" in r.stdout + r.stderr
    assert (run_dir / "pretrain" / "encoder.pt").stat().st_mtime == encoder_mtime          # the finished phase did not run again
    rec = json.loads((run_dir / "run.json").read_text())
    assert rec["status"] == "done" and set(rec["phases"].values()) == {"done"}
    for name in ("natron_v2.pt", "report.html", "metrics.json", "params.yaml", "02h_pretrain.ipynb", "05a_report.ipynb"):
        assert (run_dir / name).exists(), name
    assert (tmp_path / "out" / "latest").resolve() == run_dir.resolve()
    assert '"buy_prob"' in r.stdout and "natron serve --model" in r.stdout                 # the sample prediction and how to serve
    listing = subprocess.run([str(BIN / "natron"), "runs", "--outputs", str(tmp_path / "out")], capture_output=True, text=True).stdout
    assert run_dir.name in listing and "done" in listing
