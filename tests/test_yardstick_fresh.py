"`natron bench learn --quick`: natron, LightGBM, logistic regression and the Bayes filter on fresh laboratory markets, the CI size of the default study."
import os
import numpy as np
import pandas as pd

def test_fresh_table_is_written_with_its_command(tmp_path, run_natron):
    out = tmp_path / "fresh.csv"
    r = run_natron("bench", "learn", "--quick", "--out", out, env={**os.environ, "OMP_NUM_THREADS": "1"}, cwd=tmp_path)
    assert "fresh laboratory markets" in r.stdout and f"written to {out}" in r.stdout, r.stdout
    table = pd.read_csv(out).set_index("model")
    assert list(table.index) == ["natron", "lightgbm", "logreg", "bayes_filter"]
    assert (table.command == f"natron bench learn --quick --out {out}").all()
    numbers = table.drop(columns=["command", "measured"])
    assert np.isfinite(numbers.to_numpy(float)).all(), f"every value is finite: {numbers}"
    assert table.auc.between(0, 1).all() and table.loc["bayes_filter", "edge"] == 1.0
    others = table.drop(index="lightgbm")
    assert ((others.vs_lightgbm_low <= others.vs_lightgbm) & (others.vs_lightgbm <= others.vs_lightgbm_high)).all(), \
        f"every paired difference sits inside its bootstrap interval: {others.filter(like='vs_')}"
    assert (others.vs_lightgbm_high > others.vs_lightgbm_low).all(), "a block-bootstrap interval is wider than zero"
    assert (table.rows > 500).all(), "two markets of 600 bars on two instruments leave over 500 common fresh rows a market"
