"""The documentation site is built for real (`tools/docs.py`, what `make docs` runs) and every page is loaded in
headless Chromium: no page may log a JavaScript error, fail to load a file, reach for the network, or link to a
page or anchor that does not exist; every notebook, module and guide has its page."""
import re, subprocess, sys
from pathlib import Path

import pytest

from test_report_browser import ARGS, CHROMIUM, _require_browser

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    _require_browser()
    out = tmp_path_factory.mktemp("docs") / "_docs"
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "docs.py"), "--out", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"the docs build failed:\n{r.stdout}\n{r.stderr}"
    return out


def test_every_notebook_module_and_guide_has_a_page(site):
    expected = ({f"{p.stem}.html" for p in (ROOT / "nbs").glob("*.ipynb")} | {"CONTRIBUTING.html", "CHANGELOG.html"}
                | {f"api-{p.stem}.html" for p in (ROOT / "natron").glob("[a-z]*.py")})
    missing = expected - {p.name for p in site.glob("*.html")}
    assert not missing, f"pages missing from the site: {sorted(missing)}"


def test_module_docstrings_link_to_pages_the_site_has(site):
    import tomllib
    base = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Documentation"]
    links = {f.name: re.search(r"^Docs: (\S+?\.html\.md)", f.read_text(), re.M) for f in (ROOT / "natron").glob("[a-z]*.py")}
    assert all(links.values()), [name for name, m in links.items() if not m]
    missing = [m.group(1) for m in links.values() if not (site / m.group(1).removeprefix(base)).exists()]
    assert not missing, f"module docstrings link to pages the site lacks: {missing}"


def test_links_point_at_pages_and_anchors_that_exist(site):
    ids = {p.name: set(re.findall(r'\sid="([^"]+)"', p.read_text())) for p in site.glob("*.html")}
    broken = []
    for page in site.glob("*.html"):
        for href in re.findall(r'href="([^"]+)"', page.read_text()):
            if re.match(r"[a-z]+:", href): continue                            # the repository, data: URLs
            target, _, anchor = href.partition("#")
            target = target or page.name
            if not (site / target).exists() or (anchor and target in ids and anchor not in ids[target]):
                broken.append(f"{page.name} -> {href}")
    assert not broken, f"links to missing pages or anchors: {broken[:20]}"


def test_every_page_loads_in_chromium_without_errors(site):
    from playwright.sync_api import sync_playwright
    problems, entries = [], {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: m.type == "error" and problems.append(f"{page.url}: console: {m.text}"))
            page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"{page.url}: could not load {r.url}"))
            page.on("request", lambda r: r.url.startswith(("http:", "https:"))
                    and problems.append(f"{page.url}: network {r.url}"))
            for html in sorted(site.glob("*.html")):
                page.goto(html.as_uri(), wait_until="load")
                assert page.locator("nav a").count() > 20, f"{html.name} has no navigation"
                entries[html.name] = page.locator(".api-entry").count()
                if html.name == "architecture.html":
                    table = page.locator("table", has_text="natron.data").inner_text()
                    assert "natron.pipeline" in table and "00_data.ipynb" in table, \
                        "the architecture page's module table did not render"
        finally: browser.close()
    assert not problems, "\n".join(problems[:20])
    empty = [name for name, n in entries.items() if name.startswith("api-") and n == 0]
    assert not empty, f"API pages without entries: {empty}"
