"Fine-tune the smoke model under torchrun; every rank writes a digest of its final weights to OUT/rank<N>.txt."
import hashlib, os, sys
import torch
from natron.data import synthetic_market
from natron.finetune import finetune

out = sys.argv[1]
torch.set_num_threads(1)
candles, _ = synthetic_market(800, seed=0)
model, result, _, _ = finetune(candles, "smoke", out_dir=os.path.join(out, "run"), seed=0, progress=False, epochs=2, max_batches=4)
digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in model.parameters())).hexdigest()
with open(os.path.join(out, f"rank{os.environ.get('RANK', 0)}.txt"), "w") as f: f.write(f"{digest} {result.history.val_loss.iloc[-1]:.8f}")
