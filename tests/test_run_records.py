"Run records survive a kill at any moment: a training process killed again and again, mid-write or not, always leaves a run that resumes."
import json, os, random, signal, subprocess, sys, time
import pandas as pd
import torch

EPOCHS = 80
TRAIN = f"""
import sys, torch
from torch import nn
from natron.training import fit, TrainConfig
torch.manual_seed(0); torch.set_num_threads(1)
X = torch.randn(128, 4, generator=torch.Generator().manual_seed(0)); Y = X.sum(1)
ds = torch.utils.data.TensorDataset(X, Y)
class Regression(nn.Module):
    def __init__(self): super().__init__(); self.lin = nn.Linear(4, 1)
    def forward(self, x, y): return ((self.lin(x).squeeze(-1) - y) ** 2).mean(), {{}}
fit(Regression(), ds, ds, TrainConfig(epochs={EPOCHS}, batch_size=64, patience=10**6, lr=1e-3, progress=False), sys.argv[1])
"""

def _readable(out):
    "Every record of the run parses (the writes are atomic), and tells how far it got."
    ckpt = torch.load(out / "checkpoint_last.pt", weights_only=True)
    history = json.loads((out / "metrics.json").read_text())["history"]
    csv = pd.read_csv(out / "metrics.csv")
    for rows in (len(history), len(csv)):                       # each file whole; written after the checkpoint, so at most one epoch behind
        assert ckpt["epoch"] - 1 <= rows <= ckpt["epoch"], (ckpt["epoch"], len(history), len(csv))
    return ckpt["epoch"]

def test_killed_again_and_again_then_resumed(tmp_path):
    out, rng, reached = tmp_path / "run", random.Random(0), []
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for _ in range(4):
        before = (out / "metrics.json").stat().st_mtime_ns if (out / "metrics.json").exists() else 0
        p = subprocess.Popen([sys.executable, "-c", TRAIN, str(out)], env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120                           # until this process has written its first epoch
        while time.time() < deadline and p.poll() is None and not (
            (out / "metrics.json").exists() and (out / "metrics.json").stat().st_mtime_ns != before): time.sleep(0.02)
        time.sleep(rng.uniform(0.02, 0.3))                     # an epoch computes in ms and writes its records in far longer
        p.send_signal(signal.SIGKILL); p.wait()
        assert p.returncode == -signal.SIGKILL, f"finished before the kill: {p.stderr.read()[-2000:]}"
        reached.append(_readable(out))
    assert all(b > a for a, b in zip(reached, reached[1:])), f"each resume must continue where the last kill left it: {reached}"
    done = subprocess.run([sys.executable, "-c", TRAIN, str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert _readable(out) == EPOCHS
    assert pd.read_csv(out / "metrics.csv").epoch.tolist() == list(range(EPOCHS)), "the history has every epoch once"
