"""Every natron module imports on its own: no module leans on a notebook's globals or on another module having been
imported first. Each module is imported in a child forked from a parent that holds the heavy third-party libraries
but no natron module, so the check costs a fork per module instead of a torch import per module; two children run at a time."""
import importlib, os, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THIRD_PARTY = ("numpy", "pandas", "scipy", "sklearn", "torch", "plotly.graph_objects", "lightgbm", "fastapi", "uvicorn", "gymnasium")


def start_import(module:str) -> int:
    "Fork a child that imports `natron.<module>` and exits 0 when it imported; return its pid."
    pid = os.fork()
    if pid == 0:
        try: importlib.import_module(f"natron.{module}")
        except BaseException as e:
            print(f"natron.{module} does not import on its own: {type(e).__name__}: {e}", file=sys.stderr)
            os._exit(1)
        os._exit(0)
    return pid


def reap(running:dict) -> list[str]:
    "Wait for one child of `running` (pid -> module) to end; the module in a list if it failed, else an empty list."
    pid, status = os.wait()
    module = running.pop(pid)
    return [module] if status else []


def failed_imports(modules:list[str], at_once:int=2) -> list[str]:
    "The modules whose child failed, `at_once` children running side by side (one per core)."
    running, failed = {}, []
    for module in modules:
        if len(running) == at_once: failed += reap(running)
        running[start_import(module)] = module
    while running: failed += reap(running)
    return failed


def main() -> int:
    sys.path.insert(0, str(ROOT))                # this tree's natron, whichever one is installed
    for name in THIRD_PARTY: importlib.import_module(name)
    assert not [m for m in sys.modules if m.split(".")[0] == "natron"], "the parent must hold no natron module"
    modules = sorted(p.stem for p in (ROOT / "natron").glob("[a-z]*.py"))
    if failed_imports(modules): return 1
    print(f"every natron module imports on its own ({len(modules)} modules)")
    return 0


if __name__ == "__main__": sys.exit(main())
