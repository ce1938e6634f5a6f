"""Build natron's documentation site into `_docs/` without Quarto: one page per notebook (nbconvert), with the
Markdown copy nbdev's module docstrings link to (`pipeline.html.md`), the architecture page, CONTRIBUTING and
CHANGELOG, and an API page per module (signatures, docstrings and the
parameters' trailing comments), all sharing one navigation and one stylesheet. Pages are static files that load
nothing from the network.

    python tools/docs.py [--out _docs]
"""
from __future__ import annotations
import argparse, functools, html, importlib, inspect, json, re, shutil, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / "nbs"
FIRST = ("index", "architecture")          # pages a reader lands on first; their cheap outputs are computed
TEXT_PAGES = ("CONTRIBUTING", "CHANGELOG")  # Markdown files of the repository rendered as pages
CSS = """
body { margin: 0; font: 15px/1.55 system-ui, sans-serif; color: #1f2328; display: flex; }
nav { width: 250px; flex: none; height: 100vh; position: sticky; top: 0; overflow-y: auto; background: #f6f8fa;
      border-right: 1px solid #d0d7de; padding: 12px 16px; box-sizing: border-box; font-size: 14px; }
nav h2 { font-size: 12px; text-transform: uppercase; color: #656d76; margin: 16px 0 4px; }
nav a { display: block; color: #0969da; text-decoration: none; padding: 1px 0; }
nav a.current { font-weight: 600; color: #1f2328; }
main { max-width: 960px; padding: 16px 40px 64px; min-width: 0; flex: 1; }
pre, code { font: 13px/1.45 ui-monospace, monospace; }
pre { background: #f6f8fa; padding: 10px 12px; overflow-x: auto; border-radius: 6px; }
.jp-InputPrompt, .jp-OutputPrompt { display: none; }
.jp-Cell { margin: 10px 0; }
.jp-OutputArea pre { background: #fff; border-left: 3px solid #d0d7de; }
table { border-collapse: collapse; margin: 10px 0; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
.api-entry { border-top: 1px solid #d0d7de; padding-top: 6px; margin-top: 18px; }
.anchor-link { visibility: hidden; text-decoration: none; margin-left: 4px; }
h1:hover .anchor-link, h2:hover .anchor-link, h3:hover .anchor-link { visibility: visible; }
.api-entry h3 { margin: 4px 0; font-family: ui-monospace, monospace; font-size: 15px; }
"""


def repository_url() -> str:
    "The repository's address from pyproject.toml, for links to files that are not pages."
    import tomllib
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"].rstrip("/")


def fix_links(body:str) -> str:
    "Links to pages: `x.ipynb` -> `x.html`, `CONTRIBUTING.md` -> `CONTRIBUTING.html`; other files -> the repository."
    def repl(m):
        href = m.group(2)
        if re.match(r"[a-z]+:|#", href): return m.group(0)
        path, _, anchor = href.partition("#")
        stem = Path(path).stem
        if path.endswith(".ipynb") or (path.endswith(".md") and stem in TEXT_PAGES): new = f"{stem}.html"
        else: new = f"{repository_url()}/blob/main/{path.lstrip('./')}"
        return f'{m.group(1)}"{new}{"#" + anchor if anchor else ""}"'
    return re.sub(r'(href=)"([^"]+)"', repl, body)


@functools.cache
def exporter():
    "nbconvert's HTML exporter for cell bodies (the page around them is ours)."
    from nbconvert import HTMLExporter
    e = HTMLExporter(template_name="basic", exclude_input_prompt=True, exclude_output_prompt=True)
    e.register_filter("clean_html", lambda html: html)   # our own notebooks: sanitizing each cell triples the build
    return e


def notebook_body(path:Path) -> tuple[str, str]:
    "(title, HTML) of a notebook: its cells without nbdev directives and hidden cells; FIRST pages are executed."
    import nbformat
    if path.stem in FIRST:                 # run in process by execnb, as nbdev-test does
        from fastcore.nbio import read_nb, nb2dict
        from execnb.shell import CaptureShell
        raw = read_nb(path)
        CaptureShell(path=NBS).run_all(raw, exc_stop=True)
        nb = nbformat.reads(json.dumps(nb2dict(raw)), as_version=4)
    else: nb = nbformat.read(path, as_version=4)
    cells = []
    for cell in nb.cells:
        cell.metadata = {}                 # execnb's timings and editors' state: nothing a page shows
        if cell.cell_type == "code":
            if re.match(r"\s*#\|\s*hide", cell.source): continue
            cell.source = "\n".join(s for s in cell.source.splitlines() if not s.lstrip().startswith("#|")).strip()
            if not cell.source: continue
        cells.append(cell)
    nb.cells = cells
    titles = (re.match(r"#\s+(.+)", c.source) for c in cells if c.cell_type == "markdown")
    title = next((t.group(1) for t in titles if t), path.stem)
    body, _ = exporter().from_notebook_node(nb)
    return title, body


def markdown_page(path:Path) -> str:
    "A notebook as Markdown: the `<module>.html.md` page nbdev's module docstrings link to (`Docs: <site>/pipeline.html.md`)."
    from nbconvert import MarkdownExporter
    return MarkdownExporter().from_filename(str(path))[0]


def api_body(module:str, names:list[str]) -> str:
    "HTML of one module's exported functions and classes: signature, docstring and documented parameters."
    from fastcore.docments import docments
    from nbconvert.filters import markdown2html
    mod = importlib.import_module(module)
    source = re.search(r"File to edit: \.\./nbs/(\S+?)\.ipynb", Path(mod.__file__).read_text())
    out = [f"<h1>{module}</h1>", markdown2html((inspect.getdoc(mod) or "").split("\n\nDocs:")[0])]
    if source: out.append(f'<p>Generated from the notebook <a href="{source.group(1)}.html">{source.group(1)}</a>, '
                          "where each of these is explained and tested.</p>")
    for name in names:
        obj = mod
        for part in name.split("."): obj = getattr(obj, part, None)
        if obj is None or not callable(obj): continue
        try: sig = re.sub(r" at 0x[0-9a-f]+>", ">", str(inspect.signature(obj)))   # defaults' reprs without addresses
        except (TypeError, ValueError): sig = "(...)"
        kind = "class" if inspect.isclass(obj) else "def"
        out.append(f'<div class="api-entry" id="{name.lower()}"><h3>{kind} {html.escape(name)}{html.escape(sig)}</h3>')
        out.append(markdown2html(inspect.getdoc(obj) or ""))
        try: params = {k: v for k, v in docments(obj, full=True).items() if k != "return" and v.get("docment")}
        except Exception: params = {}   # builtins and C extensions have no source to read comments from
        if params:
            rows = "".join(f"<tr><td><code>{html.escape(k)}</code></td><td><code>{_default(v['default'])}</code></td>"
                           f"<td>{_code_spans(v['docment'])}</td></tr>" for k, v in params.items())
            out.append(f"<table><tr><th>parameter</th><th>default</th><th>what it is</th></tr>{rows}</table>")
        out.append("</div>")
    return "\n".join(out)


def _code_spans(text:str) -> str: return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _default(value) -> str: return "" if value is inspect.Parameter.empty else html.escape(repr(value))


def page(title:str, body:str, current:str, nav:list[tuple[str, list[tuple[str, str]]]]) -> str:
    "A complete HTML page: the shared navigation (section -> [(file, label)]) and `body`."
    def link(f, label): return f'<a href="{f}"{" class=current" if f == current else ""}>{html.escape(label)}</a>'
    links = "".join(f"<h2>{section}</h2>" + "".join(link(f, label) for f, label in items) for section, items in nav)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} — natron</title>'
            f'<link rel="stylesheet" href="style.css"><link rel="icon" href="data:,"></head>'
            f'<body><nav><a href="index.html"><b>natron</b></a>{links}</nav><main>{body}</main></body></html>\n')


def build(out:Path=ROOT / "_docs") -> list[Path]:
    "Write the site to `out` (replacing it); return the pages written."
    from pygments.formatters import HtmlFormatter
    from nbconvert.filters import markdown2html
    sys.path.insert(0, str(ROOT))
    from natron._modidx import d
    notebooks = sorted(NBS.glob("*.ipynb"), key=lambda p: (p.stem not in FIRST, p.stem))
    bodies = {f"{p.stem}.html": notebook_body(p) for p in notebooks}
    bodies |= {f"{n}.html": (n.title(), markdown2html((ROOT / f"{n}.md").read_text())) for n in TEXT_PAGES}
    modules = {m: [s.split(".", 2)[2] for s in syms if not s.rsplit(".", 1)[1].startswith("_")]   # public names
               for m, syms in d["syms"].items()}
    bodies |= {f"api-{m.split('.', 1)[1]}.html": (m, api_body(m, names)) for m, names in modules.items()}
    nav = [("Guide", [("index.html", "Overview"), ("architecture.html", "Architecture")]
                     + [(f"{n}.html", n.title()) for n in TEXT_PAGES]),
           ("Notebooks", [(f"{p.stem}.html", p.stem) for p in notebooks if p.stem not in FIRST]),
           ("API", [(f"api-{m.split('.', 1)[1]}.html", m) for m in modules])]
    if out.exists(): shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / "style.css").write_text(CSS + HtmlFormatter().get_style_defs(".highlight"))
    for name, (title, body) in bodies.items(): (out / name).write_text(page(title, fix_links(body), name, nav))
    from nbdev.config import nbpath2html
    for p in notebooks: (out / f"{nbpath2html(Path(p.name)).as_posix()}.md").write_text(markdown_page(p))
    return [out / name for name in bodies]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Build natron's documentation site: every notebook, the architecture "
                                             "page, CONTRIBUTING, CHANGELOG and an API page per module.")
    ap.add_argument("--out", type=Path, default=ROOT / "_docs", help="output folder, replaced (default: _docs)")
    args = ap.parse_args()
    t0 = time.time()
    pages = build(args.out)
    print(f"wrote {len(pages)} pages to {args.out} in {time.time() - t0:.0f} s; open {args.out / 'index.html'}")
