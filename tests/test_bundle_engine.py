"A bundle says what made it: the predictor rebuilds the feature engine it was trained with, and an unreadable bundle is one line."
import pandas as pd
import torch
from natron.bundle import engine_config, load_bundle
from natron.data import synthetic_market, write_sqlite
from natron.features import FeatureEngine
from natron.finetune import finetune
from natron.inference import load_predictor


def test_served_features_are_the_trained_ones(tmp_path):
    candles, _ = synthetic_market(900, "SYN_EURUSD", seed=0)
    engine = FeatureEngine(groups=["momentum", "candle"])                  # not the default engine
    _, _, data, _ = finetune(candles, "smoke", out_dir=tmp_path, engine=engine, progress=False, epochs=1, max_batches=2)
    bundle = load_bundle(tmp_path / "natron_v2.pt")
    assert bundle.feature_config == engine_config(engine)
    assert bundle.train_meta["natron_version"]
    predictor = load_predictor(tmp_path / "natron_v2.pt")
    assert [s.name for s in predictor.engine.specs] == [s.name for s in engine.specs], "the predictor must rebuild the trained engine"
    assert predictor.required_history == data.window + engine.warmup < data.window + FeatureEngine().warmup
    trained = engine.transform(candles)[data.feature_columns]
    served = predictor.engine.transform(candles)[predictor.columns]
    pd.testing.assert_frame_equal(served, trained)


def test_unreadable_bundle_is_one_line_from_the_cli(tmp_path, run_natron):
    candles, _ = synthetic_market(300, "SYN_EURUSD", seed=0)
    db = tmp_path / "m.db"; write_sqlite(candles, db, "EURUSD")
    from natron.bench import demo_bundle
    good = torch.load(demo_bundle(tmp_path / "good.pt"), weights_only=True)
    cases = {"version.pt": ({**good, "format_version": 1.5}, "format_version 1.5, not a positive integer"),
             "config.pt": ({**good, "model_config": {**good["model_config"], "n_layer": 3}}, "model_config has unknown key(s) ['n_layer']"),
}
    for name, (obj, why) in cases.items():
        torch.save(obj, tmp_path / name)
        r = run_natron("predict", "--model", tmp_path / name, "--db", db, check=False)
        assert r.returncode == 2 and why in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
