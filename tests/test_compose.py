"""The phase notebooks compose by hand through papermill alone, on real candles with their gaps.

Each phase's `out_dir` holds what the next phase needs: pretraining leaves `encoder.pt`, fine-tuning a bundle that
records the data it was trained on, RL a bundle with its policy and its seed table, and the report reads any of
them. The candles are a real US stock's hourly bars (seven a session, nights, weekends and holidays missing),
loaded from an installed package at test time: every assertion after a notebook's `parameters` cell must hold on
them, not only on the synthetic market. Each notebook runs as `natron run` runs it, without its cells tagged
`lesson`. The fine-tuned bundle also serves: it predicts on the real candles (this chain is the suite's one
fine-tune on real candles through papermill).
"""
import json
import re
from pathlib import Path

import numpy as np
import papermill as pm

from natron.inference import load_predictor
from natron.pipeline import without_lessons
from natron.samples import sample_candles

NBS = Path(__file__).resolve().parent.parent / "nbs"
REAL = "sample:stock-hourly"


def run(notebook: str, out: Path, **parameters) -> None:
    "Execute the notebook as `natron run` does: its copy without the lessons (`nbdev-test` runs those on their own data)."
    copy = without_lessons(NBS / notebook, out / notebook)
    pm.execute_notebook(str(copy), str(copy), parameters=parameters, progress_bar=False, cwd=str(NBS))


def test_phases_chain_by_hand_on_real_candles(tmp_path):
    pre, ft, rl = tmp_path / "pretrain", tmp_path / "finetune", tmp_path / "rl"
    run("02h_pretrain.ipynb", tmp_path, data_path=REAL, out_dir=str(pre), max_batches=10)
    assert (pre / "encoder.pt").exists(), list(pre.iterdir())
    run("03_finetune.ipynb", tmp_path, data_path=REAL, encoder_path=str(pre / "encoder.pt"), out_dir=str(ft), borrow_bps=50.0)
    metrics = json.loads((ft / "metrics.json").read_text())
    assert metrics["costs"]["borrow_bps"] == 50.0, metrics["costs"]                # one borrow cost, set once per phase as `natron run` passes it
    assert {"val_buy_auc", "test_buy_auc"} <= set(metrics["headline"]), metrics["headline"]
    assert set(metrics["labels"]["class_shares"]) == {"train", "val", "test"}, metrics["labels"]
    assert "test" in metrics
    pred = load_predictor(ft / "natron_v2.pt", threads=1).predict_batch(sample_candles("stock-hourly").iloc[-600:])
    probs = pred[["buy_prob", "sell_prob"]].dropna().to_numpy()
    assert len(probs) > 200 and np.isfinite(probs).all() and ((0 <= probs) & (probs <= 1)).all()
    run("04_rl.ipynb", tmp_path, data_path=REAL, bundle_path=str(ft / "natron_v2.pt"), out_dir=str(rl), seeds=2, learners="bandit", borrow_bps=50.0)
    run("05a_report.ipynb", tmp_path, run_dir=str(rl), walk_forward_folds=2, importance_windows=200, borrow_bps=50.0)
    report = json.loads((rl / "report" / "metrics.json").read_text())
    page = (rl / "report.html").read_text()
    assert report["costs"]["borrow_bps"] == 50.0 and "shorts pay 50 bp a year" in page, report["costs"]
    assert re.search(r"<th>val_sharpe</th>\s*<th>val_dsr</th>\s*<th>val_n_trials</th>", page)    # the summary table's first columns
    row = re.search(r"<th>natron_rl</th>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", page)   # the RL choice: 1 learner x 2 seeds
    assert row and 0 <= float(row[2]) <= 1 and row[3] == "2", row
    assert report["headline"]["val_natron_rl_n_trials"] == 2 and f"{report['headline']['val_natron_rl_dsr']:.4g}" == row[2], report["headline"]
    assert report["params"]["data_path"] == REAL, report["params"]
    assert 1500 < report["bars_per_year"] < 2000, f"hourly US equity sessions: ~7 bars a day, got {report['bars_per_year']}"
    assert "natron" in report["verdicts"] and "distinguishable" in report["verdicts"]["natron"], report["verdicts"]
    assert (rl / "report.html").exists()
