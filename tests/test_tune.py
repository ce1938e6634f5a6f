"`natron tune`: two worker processes share one SQLite study, the best trial becomes a params file, and `natron run` runs it."
import json, os, sqlite3
import yaml

def test_two_workers_share_a_study_and_the_best_params_run(tmp_path, run_natron):
    tune_file = tmp_path / "tune.yaml"
    tune_file.write_text(yaml.safe_dump({
        "name": "pytest-tune", "outputs": str(tmp_path / "out"), "trials": 3, "seeds": [0, 1], "metric": "buy_auc",
        "run": {"preset": "smoke", "n_bars": 1200, "phases": {"pretrain": {"enabled": False}, "rl": {"enabled": False}, "report": {"enabled": False}}},
        "space": {"phases.finetune.lr": {"low": 1e-4, "high": 3e-3, "log": True}}}))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = run_natron("tune", tune_file, "--jobs", "2", env=env, cwd=tmp_path)
    assert "scored once, after the study" in r.stdout
    out = tmp_path / "out" / "tune" / "pytest-tune"
    with sqlite3.connect(out / "study.db") as con:               # one study, trials from both worker processes
        assert con.execute("select count(*) from studies").fetchone()[0] == 1
        states = [s for (s,) in con.execute("select state from trials")]
        pids = {v for (v,) in con.execute("select value_json from trial_user_attributes where key = 'pid'")}
    assert len(states) >= 3 and set(states) <= {"COMPLETE", "PRUNED"}, states
    assert len(pids) == 2, f"both workers must have run trials of the shared study, got pids {pids}"
    result = json.loads((out / "result.json").read_text())
    best = yaml.safe_load((out / "best.yaml").read_text())
    assert best["phases"]["finetune"]["lr"] == result["best_params"]["phases.finetune.lr"]
    assert 0 < result["test"]["buy_auc"] < 1

    run = run_natron("run", out / "best.yaml", "--outputs", tmp_path / "runs", env=env, cwd=tmp_path)
    assert "run finished" in run.stdout
    run_dir = next((tmp_path / "runs" / "runs").glob("*-pytest-tune-best"))
    assert (run_dir / "natron_v2.pt").exists()
    assert yaml.safe_load((run_dir / "params.yaml").read_text())["phases"]["finetune"]["lr"] == best["phases"]["finetune"]["lr"]
