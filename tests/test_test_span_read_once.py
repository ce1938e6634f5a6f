"Rewrite every test candle and run natron's own selections again: fine-tuning's epoch, threshold and validation scores, the RL choice, walk-forward and `natron tune` stay put."
import json

import numpy as np
import pandas as pd
import pytest
import torch

from natron.data import phase_candles
from natron.finetune import finetune
from natron.rl import RLConfig, refine


def rewritten(candles:pd.DataFrame, start) -> pd.DataFrame:
    "`candles` with every bar at or after `start` moved onto another random path (OHLC scaled alike, so each bar stays valid)."
    later = candles.index.get_level_values("time") >= start
    factor = np.where(later, np.exp(np.cumsum(np.random.default_rng(7).normal(0, 0.01, len(candles)) * later)), 1.0)
    return candles.assign(**{c: candles[c] * factor for c in ("open", "high", "low", "close")})


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    "Fine-tune and refine on the default synthetic market and on the same market with its test span rewritten."
    torch.set_num_threads(1)
    candles, _ = phase_candles(n_bars=1200, seed=0)
    out = {}
    for name in ("original", "rewritten"):
        if name == "rewritten":
            data = out["original"]["data"]
            candles = rewritten(candles, data.index[data.splits.test].get_level_values("time").min())
        d = tmp_path_factory.mktemp(name)
        model, result, data, scores = finetune(candles, "smoke", d / "finetune", 0, progress=False)
        rl = refine(candles, d / "finetune" / "natron_v2.pt", "smoke", d / "rl", seeds=2, learners=("bandit",),
                    cfg=RLConfig(bandit_epochs=2), progress=False)
        out[name] = dict(data=data, result=result, scores=scores, rl=rl, metrics=json.loads((d / "finetune" / "metrics.json").read_text()))
    return out


def test_fine_tuning_chooses_nothing_by_the_test_span(runs):
    a, b = runs["original"], runs["rewritten"]
    assert a["result"].best_epoch == b["result"].best_epoch
    val = [c for c in a["result"].history if c.startswith("val_")]
    pd.testing.assert_frame_equal(a["result"].history[val], b["result"].history[val])
    assert a["metrics"]["threshold"] == b["metrics"]["threshold"]
    assert a["scores"]["val"] == b["scores"]["val"]
    assert a["scores"]["test"] != b["scores"]["test"], "the rewrite must reach the test scores, or the test proves nothing"


def test_the_rl_choice_reads_no_test_bar(runs):
    a, b = runs["original"]["rl"], runs["rewritten"]["rl"]
    same = lambda x: json.dumps(x, sort_keys=True, default=str)       # NaN equals NaN here (a trial that never trades has no Sharpe)
    assert same(a.chosen) == same(b.chosen)                           # learner, seed, validation Sharpes, DSR over the trials
    val = lambda r: r.scores[r.scores.split == "val"].reset_index(drop=True)
    pd.testing.assert_frame_equal(val(a), val(b))
    test = lambda r: r.scores[r.scores.split == "test"].sharpe.to_numpy()
    assert not np.allclose(test(a), test(b), equal_nan=True), "the rewrite must reach the test figures"


def test_walk_forward_reads_each_test_span_once():
    "Rewrite the last fold's test span: every fold's threshold and every earlier fold's figures stay; the last fold's test figures move."
    from natron.labels import LabelGeneratorV2
    from natron.report import baseline_fit
    from natron.scoreboard import walk_forward
    from natron.sequences import walk_forward_folds
    candles, _ = phase_candles(n_bars=1500, seed=1)
    folds = list(walk_forward_folds(candles.index, 800, 200, mode="expanding"))
    last_test = candles.index[folds[-1][1]].get_level_values("time").min()
    labels = LabelGeneratorV2().fit(candles.iloc[folds[0][0]]).transform(candles)
    a = walk_forward(candles, baseline_fit("logreg"), folds, labels).folds
    b = walk_forward(rewritten(candles, last_test), baseline_fit("logreg"), folds, labels).folds
    pd.testing.assert_series_equal(a.threshold, b.threshold)
    pd.testing.assert_frame_equal(a.iloc[:-1], b.iloc[:-1])
    assert a.sharpe.iloc[-1] != b.sharpe.iloc[-1], "the rewrite must reach the last fold's test figures"


def test_tune_chooses_nothing_by_the_test_span(tmp_path):
    "A seeded one-worker study on a market, then on the same market with its test span rewritten: the same trials, values and winner."
    import yaml
    from natron.data import bar_times, synthetic_market
    from natron.tune import finish, load_tune, open_study, optimize, run_finetune
    candles, _ = synthetic_market(1200, "SYN_EURUSD", seed=0)
    files = {name: tmp_path / f"{name}.csv" for name in ("original", "rewritten")}
    candles.reset_index().to_csv(files["original"], index=False)
    _, data, _ = run_finetune({"data_path": str(files["original"]), "preset": "smoke", "epochs": 1}, 0)     # where the test span starts
    rewritten(candles, bar_times(data.index[data.splits.test]).min()).reset_index().to_csv(files["rewritten"], index=False)
    space = {"phases.finetune.lr": {"low": 1e-4, "high": 3e-3, "log": True}, "label_fraction": [0.5, 1.0]}
    studies = {}
    for name, csv in files.items():
        tune_file = tmp_path / f"{name}.yaml"
        tune_file.write_text(yaml.safe_dump({"name": name, "outputs": str(tmp_path), "trials": 3, "seeds": [0], "seed": 3, "metric": "buy_auc",
                                             "run": {"preset": "smoke", "data_path": str(csv), "phases": {"finetune": {"epochs": 2}}}, "space": space}))
        optimize(tune_file, progress=False)
        trials = [(t.params, t.value, t.state, t.user_attrs["val_per_bar_sharpe"]) for t in open_study(load_tune(tune_file)).trials]
        studies[name] = dict(trials=trials, result=finish(tune_file))
    a, b = studies["original"], studies["rewritten"]
    assert len(a["trials"]) == 3 and a["trials"] == b["trials"]       # every trial's parameters, validation value, state and strategy
    assert a["result"]["best_params"] == b["result"]["best_params"] and a["result"]["val_dsr"] == b["result"]["val_dsr"]
    assert a["result"]["test"] != b["result"]["test"], "the rewrite must reach the best trial's test score"
