"`natron bench learn --real --quick`: natron from scratch and pretrained against LightGBM and logistic regression, walk-forward on real hourly candles."
import os
import pandas as pd

def test_real_walk_forward_table_is_written_with_its_command(tmp_path, run_natron):
    out = tmp_path / "real.csv"
    r = run_natron("bench", "learn", "--real", "--quick", "--out", out, env={**os.environ, "OMP_NUM_THREADS": "1"}, cwd=tmp_path)
    assert "natron bench learn" in r.stdout and f"written to {out}" in r.stdout, r.stdout
    table = pd.read_csv(out).set_index("model")
    assert list(table.index) == ["natron", "natron_pretrained", "lightgbm", "logreg", "buy_and_hold"]
    assert (table.command == f"natron bench learn --real --quick --out {out}").all()
    assert (table.folds == 2).all(), "the quick size walks forward over two folds"
    models = table.drop(index="buy_and_hold")
    for score in ("direction_auc", "buy_auc", "sell_auc"):
        assert models[f"{score}_mean"].between(0, 1).all(), f"{score} is an AUC: {models[f'{score}_mean']}"
        assert (models[f"{score}_ci_low"] <= models[f"{score}_mean"]).all() and (models[f"{score}_mean"] <= models[f"{score}_ci_high"]).all(), \
            f"every mean sits inside its interval over folds: {models.filter(like=score)}"
    assert table.sharpe_mean.notna().all(), "every model and buy-and-hold has a Sharpe on each fold"
    assert table.loc["buy_and_hold", ["direction_auc_mean", "buy_auc_mean"]].isna().all(), "buy-and-hold makes no predictions to score"
