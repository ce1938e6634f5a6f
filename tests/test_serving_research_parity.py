"Research and production compute the same numbers: a bundle written by the fine-tuning phase, served by the predictor."
import numpy as np
import torch
from natron.data import synthetic_market
from natron.finetune import finetune, predict_windows
from natron.inference import load_predictor


def test_predictor_reproduces_the_training_codes_predictions(tmp_path):
    torch.set_num_threads(1)
    candles, _ = synthetic_market(1500, "SYN_US500", seed=0)
    model, _, data, _ = finetune(candles, preset="smoke", out_dir=tmp_path, progress=False)
    research = predict_windows(model.eval(), data.dataset("test"))           # what the notebook measured the model on
    rows = data.index[data.splits.test]
    served = load_predictor(tmp_path / "natron_v2.pt")                       # rebuilt from the bundle alone
    batch = served.predict_batch(candles).loc[rows]
    assert np.abs(batch.buy_prob.to_numpy() - research["buy"]).max() < 1e-5
    assert np.abs(batch.sell_prob.to_numpy() - research["sell"]).max() < 1e-5
    for k in (0, len(rows) // 2, len(rows) - 1):                            # one window at a time, on the history up to that row
        t = rows[k]
        single = served.predict(candles.loc[:t])
        assert abs(single["buy_prob"] - research["buy"][k]) < 1e-5 and single["timestamp"] == t.isoformat()
