"""The HTML report is a web page, so it is tested in a real browser: headless Chromium (Debian's `chromium`
package) driven by playwright loads reports built from a real tiny run and checks that every plotly figure drew
into SVG, that the page logged no JavaScript error, and that it asked the network for nothing (it works offline)."""
import shutil
from pathlib import Path

import pytest
import torch

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
FIGURES_JS = """() => [...document.querySelectorAll('.plotly-graph-div')].map(d => ({
    id: d.id, svgs: d.querySelectorAll('.main-svg').length,
    marks: [...d.querySelectorAll('path.js-line')].filter(e => (e.getAttribute('d') || '').length > 10).length
           + d.querySelectorAll('path.point, g.point path, g.hm image').length}))"""


def _require_browser():
    "Fail loudly, with the fix, when the browser or its driver is missing: a skipped browser test proves nothing."
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing, so the HTML report cannot be tested in a browser. Install it with:\n"
                    "    sudo apt-get update && sudo apt-get install -y chromium\n(.ci/run does this before `make test`)", pytrace=False)
    try: import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("playwright is missing (it drives Chromium). Install the dev extras: pip install -e '.[dev]' "
                    "(or pip install playwright; no `playwright install` is needed, the system Chromium is used)", pytrace=False)


@pytest.fixture(scope="module")
def reports(tmp_path_factory, smoke_finetune):
    "A real tiny run (the shared smoke fine-tune + an RL bandit on a small synthetic market), its report, and a report of its predictions file."
    from threadpoolctl import threadpool_limits
    from natron.data import phase_candles
    from natron.inference import load_predictor
    from natron.pipeline import start_run
    from natron.report import report_from_predictions, write_report
    from natron.rl import refine
    _require_browser()
    torch.set_num_threads(1)
    tmp = tmp_path_factory.mktemp("report")
    run_dir = start_run({"name": "browser", "preset": "smoke", "n_bars": 1500, "seed": 0}, tmp / "outputs")
    shutil.copytree(smoke_finetune, run_dir / "finetune")              # the same candles, preset and seed as this run
    candles, _ = phase_candles(None, None, 1500, 0)
    with threadpool_limits(1):
        refine(candles, run_dir / "finetune" / "natron_v2.pt", "smoke", run_dir / "rl", seeds=2, learners=("bandit",), progress=False)
        run_report = write_report(run_dir, folds=2, importance_windows=300, importance_repeats=1)
        scored = load_predictor(run_dir / "rl" / "natron_v2.pt").predict_batch(candles)
    scored["close"] = candles["close"].loc[scored.index]
    scored.reset_index().to_parquet(tmp / "predictions.parquet", index=False)
    page = report_from_predictions(tmp / "predictions.parquet", tmp / "predictions.html", candles, bundle_path=run_dir / "rl" / "natron_v2.pt")
    return {"run": run_report, "predictions": page}


def _load(path:Path):
    "Open `path` in headless Chromium; (figures as drawn, JavaScript errors, network requests)."
    from playwright.sync_api import sync_playwright
    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: r.url.startswith(("http:", "https:")) and requests.append(r.url))
            page.goto(path.as_uri(), wait_until="load")
            page.wait_for_function("() => document.querySelectorAll('.plotly-graph-div .main-svg').length > 0", timeout=30_000)
            figures = page.evaluate(FIGURES_JS)
        finally: browser.close()
    return figures, errors, requests


def test_chromium_is_installed():
    _require_browser()


@pytest.mark.parametrize("which,min_figures", [("run", 11), ("predictions", 8)])
def test_every_figure_draws_without_errors_offline(reports, which, min_figures):
    path = reports[which]
    page = path.read_text(encoding="utf-8")
    figures, errors, requests = _load(path)
    assert errors == [], f"the page logged JavaScript errors: {errors}"
    assert requests == [], f"the page reached for the network (it must work offline): {requests}"
    assert len(figures) == page.count('class="plotly-graph-div"') >= min_figures
    assert not [f["id"] for f in figures if f["svgs"] == 0], "figures without plotly's SVG"
    assert not [f["id"] for f in figures if f["marks"] == 0], "figures that drew no line, marker, bar or heatmap"
    assert page.count("* plotly.js v") == 1, "plotly.js must be embedded exactly once"
