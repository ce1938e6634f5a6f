import os, subprocess, sys
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
