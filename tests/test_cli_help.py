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
    (["-p", "phases.fintune.epochs=3"], "unknown phase(s) fintune (did you mean finetune?)"),
    (["-p", "prest=base"], "no enabled phase takes the parameter(s) prest (did you mean preset?)"),
    (["-p", "name=../../x"], "a run's name is letters, digits"),
])
def test_bad_overrides_end_with_a_message_and_leave_no_folder(tmp_path, args, message):
    r = subprocess.run([NATRON, "run", str(ROOT / "params" / "demo.yaml"), *args, "--outputs", str(tmp_path / "out")],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and message in r.stderr, f"exit {r.returncode}, stderr:\n{r.stderr}"
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path.parent / "x").exists(), "a refused run left a folder"


def test_ppo_and_data_options_are_phase_parameters():
    from natron.pipeline import check_params, load_params
    knobs = {"phases.rl.gamma": 0.95, "phases.rl.clip_range": 0.1, "phases.rl.ppo_n_steps": 64, "broker_time": "UTC+2", "repair": "sort,fill_volume"}
    declared = check_params(load_params(ROOT / "params" / "demo.yaml", knobs), nbs=ROOT / "nbs")
    assert {"gamma", "clip_range", "ppo_n_steps", "broker_time", "repair"} <= declared["rl"]
    assert all({"broker_time", "repair"} <= declared[p] for p in ("pretrain", "finetune"))
    with pytest.raises(ValueError, match=r"phases\.rl\.gama \(did you mean gamma\?\)"):
        check_params(load_params(ROOT / "params" / "demo.yaml", {"phases.rl.gama": 0.95}), nbs=ROOT / "nbs")


@pytest.mark.parametrize("command", [c for c in commands() if c], ids=" ".join)
def test_every_option_has_help(command):
    p = parser()
    for name in command: p = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
    bare = [a.option_strings or a.dest for a in p._actions if not a.help and not isinstance(a, argparse._SubParsersAction)]
    assert not bare, f"`natron {' '.join(command)}`: options without help text: {bare}"


def test_version_suggestions_and_exit_codes(tmp_path):
    from natron import __version__
    version = subprocess.run([NATRON, "--version"], capture_output=True, text=True, timeout=120)
    assert version.returncode == 0 and version.stdout.strip() == f"natron {__version__}", version
    typo = subprocess.run([NATRON, "raun"], capture_output=True, text=True, timeout=120)
    assert typo.returncode == 2 and "invalid choice: 'raun' (did you mean run?)" in typo.stderr, typo.stderr
    folder = subprocess.run([NATRON, "predict", "--model", str(tmp_path / "none.pt"), "--db", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert folder.returncode in (2, 3) and "Traceback" not in folder.stderr and len(folder.stderr.strip().splitlines()) == 1, folder.stderr


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
