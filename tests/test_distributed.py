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

def test_multi_node_form_with_c10d_rendezvous(tmp_path):
    "The multi-node command line (--nnodes, c10d rendezvous), with both 'nodes' as processes on this machine."
    port = _free_port()
    def node(rank):    # node 0 hosts the rendezvous store; a join timeout keeps a failure from hanging the suite
        return subprocess.Popen([*TORCHRUN, "--nnodes", "2", "--nproc_per_node", "1", "--rdzv-backend", "c10d",
                                 "--rdzv-endpoint", f"127.0.0.1:{port}", "--rdzv-id", "natron-test", "--node-rank", str(rank),
                                 "--rdzv-conf", f"is_host={int(rank == 0)},join_timeout=120", str(SCRIPT), str(tmp_path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    procs = [node(0)]
    time.sleep(2)
    procs.append(node(1))
    try: outs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs: p.kill()
    for p, (_, err) in zip(procs, outs): assert p.returncode == 0, err[-3000:]
    a, b = [(tmp_path / f"rank{i}.txt").read_text().split()[0] for i in range(2)]
    assert a == b
