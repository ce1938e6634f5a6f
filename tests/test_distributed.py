"Training runs unchanged under torchrun: two CPU processes (gloo) stay in sync, single- and multi-node launch forms."
import socket, subprocess, sys, time
from pathlib import Path

SCRIPT = Path(__file__).parent / "scripts" / "ddp_finetune.py"
TORCHRUN = [sys.executable, "-m", "torch.distributed.run"]

def _launch(tmp_path, *launch_args):
    r = subprocess.run([*TORCHRUN, *launch_args, str(SCRIPT), str(tmp_path)], capture_output=True, text=True, timeout=600,
                       env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr[-3000:]
    return [(tmp_path / f"rank{i}.txt").read_text().split() for i in range(2)]

def test_two_processes_stay_in_sync(tmp_path):
    (a, loss_a), (b, loss_b) = _launch(tmp_path, "--standalone", "--nproc_per_node", "2")
    assert a == b, "ranks ended with different weights"
    assert loss_a == loss_b, "ranks logged different validation losses"
    assert (tmp_path / "run" / "natron_v2.pt").exists()          # rank 0 wrote the bundle

def _free_port() -> int:
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

def _two_nodes(tmp_path, *target, env=None):
    "Launch `target` with the multi-node command line (--nnodes 2, c10d rendezvous), both 'nodes' as processes on this machine."
    port = _free_port()
    def node(rank):    # node 0 hosts the rendezvous store; a join timeout keeps a failure from hanging the suite
        return subprocess.Popen([*TORCHRUN, "--nnodes", "2", "--nproc_per_node", "1", "--rdzv-backend", "c10d",
                                 "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", "natron-test", "--node-rank", str(rank),
                                 "--rdzv-conf", f"is_host={int(rank == 0)},join_timeout=120", *map(str, target)], cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    procs = [node(0)]
    time.sleep(2)
    procs.append(node(1))
    try: outs = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs: p.kill()
    for p, (_, err) in zip(procs, outs): assert p.returncode == 0, err[-3000:]

def test_multi_node_form_with_c10d_rendezvous(tmp_path):
    _two_nodes(tmp_path, SCRIPT, tmp_path)
    a, b = [(tmp_path / f"rank{i}.txt").read_text().split()[0] for i in range(2)]
    assert a == b


def _tiny_params(tmp_path):
    "A finetune-only parameter file on 800 candles of one instrument, and an environment that imports this checkout's natron."
    import os, yaml
    from natron.data import synthetic_market
    synthetic_market(800, "SYN_EURUSD", seed=0)[0].reset_index().to_csv(tmp_path / "eurusd.csv", index=False)
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"name": "ddp", "preset": "smoke", "data_path": str(tmp_path / "eurusd.csv"), "seed": 0,
        "phases": {"pretrain": {"enabled": False}, "finetune": {"epochs": 1}, "rl": {"enabled": False}, "report": {"enabled": False}}}))
    return tmp_path / "p.yaml", {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", **{k: os.environ[k] for k in ("PYTHONPATH", "HOME") if k in os.environ}}

def _one_run_recorded(tmp_path):
    import json
    (run_dir,) = list((tmp_path / "out" / "runs").glob("*-ddp"))             # one run, recorded once
    assert json.loads((run_dir / "run.json").read_text())["status"] == "done"
    assert (run_dir / "natron_v2.pt").exists() and (run_dir / "rank1" / "03_finetune.ipynb").exists()
    assert len((tmp_path / "out" / "runs" / "index.csv").read_text().splitlines()) == 2
    for nb in (run_dir / "03_finetune.ipynb", run_dir / "rank1" / "03_finetune.ipynb"):           # each rank ran the whole notebook
        assert json.loads(nb.read_text())["metadata"]["papermill"]["exception"] in (None, False), nb


def test_pipeline_under_torchrun_without_glue(tmp_path):
    "`torchrun --nproc_per_node 2 -m natron.run params.yaml`: both ranks fine-tune in DDP, rank 0 records one run."
    params, env = _tiny_params(tmp_path)
    r = subprocess.run([*TORCHRUN, "--standalone", "--nproc_per_node", "2", "-m", "natron.run", str(params), "--outputs", str(tmp_path / "out")],
                       capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    _one_run_recorded(tmp_path)

def test_pipeline_on_two_nodes(tmp_path):
    "The same entry with the multi-node command line: ranks on two 'machines' meet in the c10d rendezvous store."
    params, env = _tiny_params(tmp_path)
    _two_nodes(tmp_path, "-m", "natron.run", params, "--outputs", tmp_path / "out", env=env)
    _one_run_recorded(tmp_path)
