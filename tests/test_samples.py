"Real candles end to end: a sample imported and summarised by the CLI in fresh processes (phase 2 trained and served on real candles through papermill: test_compose)."
import subprocess
from pathlib import Path

import pandas as pd

from natron.data import load_candles
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

