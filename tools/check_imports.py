"""Every natron module imports on its own: no module leans on a notebook's globals or on another module having been
imported first. Each module is imported in a child forked from a parent that holds the heavy third-party libraries
but no natron module, so the check costs a fork per module instead of a torch import per module."""
import importlib, os, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THIRD_PARTY = ("numpy", "pandas", "scipy", "sklearn", "torch", "plotly.graph_objects", "lightgbm", "fastapi", "uvicorn", "gymnasium")


def imports_alone(module:str) -> bool:
    "Import `natron.<module>` in a forked child; True when it imported."
    pid = os.fork()
    if pid == 0:
        try: importlib.import_module(f"natron.{module}")
        except BaseException as e:
            print(f"natron.{module} does not import on its own: {type(e).__name__}: {e}", file=sys.stderr)
            os._exit(1)
        os._exit(0)
    return os.waitpid(pid, 0)[1] == 0


def main() -> int:
    sys.path.insert(0, str(ROOT))                # this tree's natron, whichever one is installed
    for name in THIRD_PARTY: importlib.import_module(name)
    assert not [m for m in sys.modules if m.split(".")[0] == "natron"], "the parent must hold no natron module"
    modules = sorted(p.stem for p in (ROOT / "natron").glob("[a-z]*.py"))
    failed = [m for m in modules if not imports_alone(m)]
    if failed: return 1
    print(f"every natron module imports on its own ({len(modules)} modules)")
    return 0


if __name__ == "__main__": sys.exit(main())
