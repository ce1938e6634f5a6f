import subprocess, sys
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent

def natron(*args, check=True, **kw):
    "Run the installed `natron` command in a fresh process; return the CompletedProcess."
    r = subprocess.run([str(BIN / "natron"), *map(str, args)], capture_output=True, text=True, timeout=600, **kw)
    if check and r.returncode != 0: raise AssertionError(f"natron {' '.join(map(str, args))} failed:\n{r.stdout}\n{r.stderr}")
    return r

@pytest.fixture
def run_natron(): return natron


@pytest.fixture(scope="session")
def smoke_finetune(tmp_path_factory):
    "A smoke fine-tune on the default synthetic market (1500 bars, seed 0), trained once per test process: its out_dir."
    import torch
    from natron.data import phase_candles
    from natron.finetune import finetune
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("smoke_finetune")
    finetune(phase_candles(n_bars=1500, seed=0)[0], "smoke", out, 0, progress=False)
    return out


@pytest.fixture(scope="session")
def model(tmp_path_factory):
    "A real bundle (real features, scaler and model, random weights, an RL policy) for the serving tests."
    from natron.bench import demo_bundle
    return demo_bundle(tmp_path_factory.mktemp("serving") / "natron_v2.pt", rl_policy=True)


@pytest.fixture(scope="session")
def predictor(model):
    from natron.inference import load_predictor
    return load_predictor(model)


SERVING = ("test_serving_", "test_sessions")   # real servers with latency budgets: one xdist worker runs them one at a time
SHARED = {"test_docs.py": "docs",              # modules whose tests share a costly fixture: one worker builds it once
          "test_report_browser.py": "smoke_finetune", "test_rl_phase.py": "smoke_finetune", "test_readme.py": "smoke_finetune",
          "test_test_span_read_once.py": "test_span"}
SLOWEST = ("test_compose.py", "test_wheel.py", "test_pipeline.py", "test_yardstick_fresh.py", "test_tune.py",
           "test_yardstick_real.py", "test_distributed.py", "test_run_records.py")   # the longest end-to-end tests, longest first

@pytest.hookimpl(tryfirst=True)                 # before xdist's own hook, which reads the marker into the test's id
def pytest_collection_modifyitems(items):
    """Under `pytest -n 2 --dist loadgroup` the serving tests share one worker, so two servers never race for the cores;
    a module's tests that share a costly fixture share a worker too. xdist hands out groups (largest first), then single
    tests in this order: the slowest first, so the two workers finish together instead of one waiting on the last long test."""
    for item in items:
        if item.path.name.startswith(SERVING): item.add_marker(pytest.mark.xdist_group("serving"))
        elif item.path.name in SHARED: item.add_marker(pytest.mark.xdist_group(SHARED[item.path.name]))
    rank = {name: i for i, name in enumerate(SLOWEST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOWEST)))
