"""The command line's first run. Every `--help` exits 0 and names no repository file that is missing (`natron`
runs in a checkout; the user's own files appear only as <placeholders>); `-p KEY=VALUE` overrides a parameter file,
is refused with a message when malformed, and drives a real run on a CSV of candles at the smallest settings, whose
output carries no Jupyter kernel warning."""
import argparse, os, re, subprocess, sys
from pathlib import Path

import nbformat
import pytest
import yaml

from natron.cli import parser

ROOT = Path(__file__).resolve().parent.parent
NATRON = str(Path(sys.executable).parent / "natron")
REPO_FILE = re.compile(r"(?<![<\w./-])([\w./-]+\.(?:yaml|yml|md|ipynb|py|mq5))\b")   # files only a checkout has


def commands(p:argparse.ArgumentParser|None=None, prefix:tuple=()):
    "Every command of the natron parser, as argument tuples: (), ('data',), ('data', 'synth'), ..."
    p = p or parser()
    yield prefix
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items(): yield from commands(sub, prefix + (name,))


def test_the_file_check_finds_repository_files_and_skips_placeholders():
    text = "see HANDBOOK.md and params/demo.yaml; -p data_path=<candles.csv> writes report.html"
    assert REPO_FILE.findall(text) == ["HANDBOOK.md", "params/demo.yaml"]


@pytest.mark.parametrize("command", list(commands()), ids=lambda c: " ".join(c) or "natron")
def test_help_exits_0_and_names_no_missing_file(command):
    r = subprocess.run([NATRON, *command, "--help"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, f"`natron {' '.join(command)} --help` exited {r.returncode}:\n{r.stderr}"
    assert r.stdout.startswith("usage: natron"), r.stdout[:200]
    missing = [f for f in REPO_FILE.findall(r.stdout) if not (ROOT / f).exists()]
    assert not missing, f"`natron {' '.join(command)} --help` names files the repository does not have: {missing}"


@pytest.mark.parametrize("args,message", [
    (["-p", "preset"], "-p takes KEY=VALUE"),
    (["-p", "seeds=[0, 1"], "not valid YAML"),
    (["-p", "phases.fintune.epochs=3"], "unknown phase(s) ['fintune']"),
    (["-p", "sed=1"], "no enabled phase takes the parameter(s) ['sed']"),
])
def test_bad_overrides_end_with_a_message(tmp_path, args, message):
    r = subprocess.run([NATRON, "run", str(ROOT / "params" / "demo.yaml"), *args, "--outputs", str(tmp_path)],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and message in r.stderr, f"exit {r.returncode}, stderr:\n{r.stderr}"


def test_resume_refuses_overrides(tmp_path):
    r = subprocess.run([NATRON, "run", "--resume", str(tmp_path), "-p", "preset=base"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "a resumed run keeps its own" in r.stderr, r.stderr


def test_first_run_on_a_csv_with_overrides(tmp_path):
    "The demo parameter file, pointed at the user's CSV by -p and cut to its pretraining phase at the smallest size."
    from natron.data import synthetic_market
    candles, _ = synthetic_market(n_bars=1200, seed=0)
    one = candles.xs(candles.index.unique("symbol")[0], level="symbol")
    one.reset_index().to_csv(tmp_path / "EURUSD_H1.csv", index=False)
    overrides = ["data_path=EURUSD_H1.csv", "preset=smoke", "name=first-run", "phases.pretrain.max_batches=3",
                 "phases.finetune.enabled=false", "phases.rl.enabled=false", "phases.report.enabled=false"]
    r = subprocess.run([NATRON, "run", str(ROOT / "params" / "demo.yaml"), *[a for o in overrides for a in ("-p", o)],
                        "--outputs", "out"], capture_output=True, text=True, cwd=tmp_path, timeout=600,
                       env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    run_dir = next((tmp_path / "out" / "runs").glob("*-first-run"))
    params = yaml.safe_load((run_dir / "params.yaml").read_text())
    assert (params["data_path"], params["preset"], params["phases"]["pretrain"]) == \
        ("EURUSD_H1.csv", "smoke", {"enabled": True, "epochs": 1, "max_batches": 3}), params
    assert [p for p, block in params["phases"].items() if block["enabled"]] == ["pretrain"], params["phases"]
    injected = nbformat.read(run_dir / "02h_pretrain.ipynb", as_version=4).metadata.papermill.parameters
    assert (injected["data_path"], injected["preset"], injected["max_batches"]) == ("EURUSD_H1.csv", "smoke", 3), \
        injected
    assert (run_dir / "pretrain" / "encoder.pt").exists(), "the pretraining phase wrote no encoder"
    assert "IPKernelApp" not in r.stdout + r.stderr, f"Jupyter kernel messages in the output:\n{r.stderr}"
