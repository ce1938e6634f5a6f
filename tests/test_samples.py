"Real candles end to end: a sample imported and summarised by the CLI in fresh processes, and phase 2 trained on real candles through papermill."
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import papermill as pm

from natron.data import load_candles
from natron.inference import load_predictor
from natron.samples import SAMPLES, sample_candles

ROOT = Path(__file__).resolve().parent.parent


def test_no_sample_data_is_committed():
    # the candles are read from the installed packages at run time; the repository never carries a copy
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    names = {Path(s.path).name for s in SAMPLES.values()}
    assert not [f for f in tracked if Path(f).name in names], "a sample data file is committed"


def test_cli_imports_a_sample_and_summarises_another(run_natron, tmp_path):
    db = tmp_path / "real.db"
    run_natron("data", "import", "sample:stock-hourly", "--db", db, "--symbol", "AAPL")
    pd.testing.assert_frame_equal(load_candles(db, "AAPL"), sample_candles("stock-hourly"))
    out = run_natron("data", "summary", "--db", "sample:stocks-daily").stdout
    assert all(s in out for s in SAMPLES["stocks-daily"].symbols), out


def test_finetune_trains_and_predicts_on_real_candles(tmp_path):
    # phase 2 at its smoke size on the real hourly stock, through papermill as a user would run it
    pm.execute_notebook(str(ROOT / "nbs" / "03_finetune.ipynb"), str(tmp_path / "03_finetune.ipynb"), cwd=str(ROOT / "nbs"),
                        parameters={"preset": "smoke", "data_path": "sample:stock-hourly", "out_dir": str(tmp_path)}, progress_bar=False)
    assert "test" in json.loads((tmp_path / "metrics.json").read_text())
    candles = sample_candles("stock-hourly")
    pred = load_predictor(tmp_path / "natron_v2.pt", threads=1).predict_batch(candles.iloc[-600:])
    probs = pred[["buy_prob", "sell_prob"]].dropna().to_numpy()
    assert len(probs) > 200 and np.isfinite(probs).all() and ((0 <= probs) & (probs <= 1)).all()
