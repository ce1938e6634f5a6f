"""natron as a user meets it outside the checkout: the wheel, built from this tree and installed in a fresh venv,
runs the README's first-hour commands, as written, in an empty folder (`natron --version`, `natron init .`,
`natron data synth`, a smoke `natron run` to a report, `natron predict`). The venv is fresh (no system site-packages); its dependencies come from the test's own environment
through a .pth line, which adds that folder to sys.path without running its .pth files, so the checkout's
editable natron stays invisible and the wheel's natron is the one imported."""
import json, os, re, shutil, subprocess, sys, sysconfig
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def first_hour() -> str:
    "The shell block of the README's 'Your first hour' section."
    section = (ROOT / "README.md").read_text().split("## Your first hour", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def sh(*args, cwd, env=None, timeout=900):
    r = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{' '.join(map(str, args))} exited {r.returncode}:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def test_wheel_in_a_fresh_venv_runs_a_project_from_an_empty_folder(tmp_path):
    src = tmp_path / "src"                                       # a copy: building writes build/ and *.egg-info beside the sources
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "outputs", "build", "_docs", "_proc", "*.egg-info",
                                                              "__pycache__", "tests", "scratch"))
    sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path / "dist", src, cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("natron-*.whl"))
    venv = tmp_path / "venv"
    sh(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    sh(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps", "--no-index", "-q", wheel, cwd=tmp_path)
    bin_ = venv / "bin"
    env = {**os.environ, "PATH": f"{bin_}:{os.environ['PATH']}", "OMP_NUM_THREADS": "1"}
    where = sh(bin_ / "python", "-c", "import natron; print(natron.__file__)", cwd=tmp_path, env=env).stdout.strip()
    assert where.startswith(str(site)), f"natron imported from {where}, not from the wheel"

    from natron import __version__
    empty = tmp_path / "empty"
    empty.mkdir()
    r = sh("bash", "-euo", "pipefail", "-c", first_hour(), cwd=empty, env=env, timeout=1500)
    assert r.stdout.startswith(f"natron {__version__}\n"), r.stdout[:200]
    project = empty / "my-project"
    assert {p.name for p in (project / "nbs").iterdir()} == {"02h_pretrain.ipynb", "03_finetune.ipynb", "04_rl.ipynb", "05a_report.ipynb"}
    run_dir = (project / "outputs" / "latest").resolve()
    rec = json.loads((run_dir / "run.json").read_text())
    assert rec["status"] == "done" and rec["natron_version"] == __version__ and rec["commit"] is None, rec
    assert rec["notebooks"] == str((project / "nbs").resolve()), "the project's own notebooks ran"
    assert (run_dir / "report.html").exists() and (run_dir / "natron_v2.pt").exists()
    assert run_dir.name in r.stdout and "done" in r.stdout, "natron runs lists the run"
    assert pd.read_csv(project / "predictions.csv")["buy_prob"].between(0, 1).all()
