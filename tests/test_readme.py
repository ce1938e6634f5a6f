"""The README as written: every `natron` command of its shell blocks is one natron's command line accepts, every file
it names is in the checkout, and its live-script block runs against a real bundle. (Its first hour runs for real in
`test_wheel.py`, its ten lines in `nbs/index.ipynb`; the rest — downloads, servers, multi-node training — would need a
network, a port held open or a cluster, so they are parsed, not run.)"""
import re, shlex, shutil
from pathlib import Path
import pytest
from natron.cli import parser

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def blocks(language:str) -> list[str]:
    "The README's fenced code blocks of `language`."
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def natron_commands() -> list[str]:
    "Every `natron ...` command of the shell blocks: comments cut, `&&` chains split."
    lines = [line.split(" #")[0].strip() for block in blocks("sh") for line in block.splitlines()]
    return [part.strip() for line in lines for part in line.split("&&") if part.strip().startswith("natron ")]


def test_the_readme_names_natron_commands():
    assert len(natron_commands()) >= 20, natron_commands()


@pytest.mark.parametrize("command", natron_commands())
def test_every_natron_command_parses(command):
    try: parser().parse_args(shlex.split(command)[1:])
    except SystemExit as e:
        if e.code: raise AssertionError(f"the README's `{command}` is not a command natron accepts (exit {e.code})") from None


def test_every_file_the_readme_names_exists():
    named = set(re.findall(r"\b((?:params|nbs|examples|tools)/[\w./-]+\.(?:yaml|ipynb|mq5|py))\b", README))
    assert named, "the README names no files"
    assert not [p for p in named if not (ROOT / p).exists()], sorted(p for p in named if not (ROOT / p).exists())


def test_the_live_script_runs_as_written(smoke_finetune, tmp_path, monkeypatch):
    "The README's Python block for a live script, in a folder whose outputs/latest holds a real bundle."
    from natron.data import phase_candles
    (script,) = [b for b in blocks("python") if "load_predictor" in b]
    (tmp_path / "outputs" / "latest").mkdir(parents=True)
    shutil.copy(smoke_finetune / "natron_v2.pt", tmp_path / "outputs" / "latest" / "natron_v2.pt")
    monkeypatch.chdir(tmp_path)
    market = phase_candles(n_bars=1500, seed=3)[0].xs("SYN_EURUSD", level="symbol")
    scope = {"candles": market.iloc[:-1], "new_candle": market.iloc[-1:]}   # a one-row candle frame (or a mapping with its time)
    exec(compile(script, "README.md", "exec"), scope)
    assert scope["stream"].predictor is scope["predictor"] and len(market) >= scope["predictor"].required_history
