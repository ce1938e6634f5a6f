"natron.rl beyond the notebook's defaults: refining a given bundle through papermill, a bundle fitted on other candles, and train_encoder."
import json
from pathlib import Path

import numpy as np
import papermill as pm
import pytest
import torch

from natron.bundle import load_bundle
from natron.data import phase_candles
from natron.labels import ACTIONS
from natron.features import FeatureEngine
from natron.finetune import predict_windows
from natron.inference import load_predictor
from natron.rl import BASELINES, RLConfig, bundle_data, refine

NB = Path(__file__).resolve().parent.parent / "nbs" / "04_rl.ipynb"
PARAMETERS = {"preset", "data_path", "symbol", "broker_time", "repair", "n_bars", "bundle_path", "out_dir", "seed", "seeds", "learners",
              "train_encoder", "cost_bps", "borrow_bps", "alpha", "beta", "bandit_epochs", "ppo_timesteps", "ppo_n_steps", "gamma", "clip_range"}


@pytest.fixture(scope="module")
def smoke_bundle(smoke_finetune):
    "The smoke supervised bundle trained once on the default synthetic market (conftest)."
    return smoke_finetune / "natron_v2.pt"


def test_papermill_sees_every_parameter():
    # papermill drops a parameter line holding a second "=" (in its comment, say); the pipeline passes only declared ones
    assert set(pm.inspect_notebook(str(NB))) == PARAMETERS


def test_bundle_data_scales_other_candles_with_the_bundles_scaler(smoke_bundle):
    bundle = load_bundle(smoke_bundle)
    other, _ = phase_candles(n_bars=1200, seed=7)                  # other candles: their own scaler would differ
    data = bundle_data(other, bundle)
    np.testing.assert_array_equal(data.scaler.mean_, bundle.scaler_mean.numpy())
    raw = FeatureEngine().transform(other)[bundle.feature_columns].to_numpy(np.float32)
    rows = data.splits.test
    want = (raw[rows] - bundle.scaler_mean.numpy()) / bundle.scaler_scale.numpy()
    np.testing.assert_allclose(data.features[rows], want, rtol=1e-4, atol=1e-4)


def test_train_encoder_moves_the_encoder_and_the_bundle_carries_it(smoke_bundle, tmp_path):
    torch.set_num_threads(1)
    candles, _ = phase_candles(n_bars=1500, seed=0)
    res = refine(candles, smoke_bundle, "smoke", tmp_path, seeds=1, cfg=RLConfig(train_encoder=True, bandit_epochs=2, ppo_timesteps=512), progress=False)
    original = load_bundle(smoke_bundle).model_state
    for key, model in res.encoders.items():                        # both learners trained the encoder
        assert any(not torch.equal(original[k], v) for k, v in model.state_dict().items() if k.startswith("backbone.")), key
    out = load_bundle(tmp_path / "natron_v2.pt")
    chosen = (res.chosen["learner"], res.chosen["seed"])
    assert out.train_meta["rl"]["train_encoder"] is True and out.phases[-1] == "rl"
    assert all(torch.equal(out.model_state[k], v) for k, v in res.encoders[chosen].state_dict().items())
    # the predictor reads the tuned encoder: its RL probabilities are the chosen head's on the tuned embeddings
    served = load_predictor(tmp_path / "natron_v2.pt").predict_batch(candles).loc[res.data.index[res.data.splits.test]]
    emb = predict_windows(res.encoders[chosen], res.data.dataset("test"))["embedding"]
    with torch.no_grad(): probs = res.heads[chosen](torch.from_numpy(emb)).softmax(-1).numpy()
    np.testing.assert_allclose(served[[f"rl_{a.lower()}_prob" for a in ACTIONS]].to_numpy(), probs, atol=1e-4)


def test_papermill_refines_a_given_bundle(smoke_bundle, tmp_path):
    out = tmp_path / "rl"
    nb = pm.execute_notebook(str(NB), str(tmp_path / "04_rl.ipynb"), progress_bar=False,
                             parameters=dict(bundle_path=str(smoke_bundle), out_dir=str(out), seeds=2, ppo_timesteps=512,
                                             ppo_n_steps=32, gamma=0.95, clip_range=0.1))
    text = json.dumps(nb)
    assert "training a smoke supervised model first" not in text and not (out / "supervised").exists()
    assert load_bundle(out / "natron_v2.pt").phases == [*load_bundle(smoke_bundle).phases, "rl"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["seed_table"]["records"]) == 2 * 2 * (len(BASELINES) + 2)        # 2 splits x 2 seeds x 5 strategies
    assert set(metrics["headline"]) >= {"chosen", "test_sharpe_chosen_mean", "test_sharpe_supervised", "test_sharpe_buy_and_hold"}
    assert {k: metrics["config"][k] for k in ("ppo_n_steps", "gamma", "clip_range")} == {"ppo_n_steps": 32, "gamma": 0.95, "clip_range": 0.1}
