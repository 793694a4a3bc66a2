"""MkDocs hooks: lab snapshots, generated code pages, page statistics and the self-hosted runtime.

Why: everything the site serves is produced by the build from the repo plus the verified asset
cache, so `mkdocs build` and `mkdocs serve` give the same self-contained site.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import json
import math
import re
import shutil
import sys
from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import codepages  # noqa: E402
import katex_prerender  # noqa: E402
from fetch_assets import artifact_dir, load_manifest  # noqa: E402
from freshimport import fresh  # noqa: E402
from labwheel import build_wheel  # noqa: E402
from sitestats import WORDS_PER_MINUTE, count_words  # noqa: E402

RUNTIME_FILES = ("pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
_stats: dict = {"words": {}, "labs": set(), "books": 0}
_build: dict = {}  # labs_py's runtime and registry, imported from disk by this build's on_config


def _labs(name: str):
    """labs_py's `name` module ("runtime", "lab") as this build imported it; outside a build, the usual import."""
    return _build.get(name) or importlib.import_module(f"labs_py.{name}")


def format_lab(source: str, language: str, css_class: str, options: dict, md, **kwargs) -> str:
    """Superfences formatter for ```lab blocks: first line the lab name, then `param: value` lines."""
    lines = [ln.strip() for ln in source.strip().splitlines() if ln.strip()]
    if not lines:
        raise ValueError("empty ```lab block: the first line must name a lab")
    name, raw = lines[0], {}
    for line in lines[1:]:
        key, sep, value = line.partition(":") if ":" in line else line.partition("=")
        if not sep:
            raise ValueError(f"```lab {name}: cannot read {line!r}; write `param: value`")
        raw[key.strip()] = value.strip()
    return _labs("runtime").snapshot(name, raw)


def on_startup(command: str, dirty: bool) -> None:
    """Under `mkdocs serve`, write no bytecode: each build re-imports labs_py, and a .pyc written
    into the watched labs_py/ would trigger a second, useless rebuild."""
    if command == "serve":
        sys.dont_write_bytecode = True


LAB_NUMBER = re.compile(r"\{\{lab (\w+)\.(\w+)((?: [\w-]+=[\w.,-]+)*)\}\}")


def lab_number(m: re.Match) -> str:
    """`{{lab quantization.zero_share bits=4 method=absmax}}` → the text the lab shows for that metric there."""
    lab, name, raw = m.group(1), m.group(2), dict(kv.split("=", 1) for kv in m.group(3).split())
    _, notices, view = _labs("runtime").view(lab, raw)
    if notices:
        raise ValueError(f"{m.group(0)}: {' '.join(notices)}")
    if name not in view.metrics:
        raise ValueError(f"{m.group(0)}: the {lab} lab has no metric {name!r} (it has {', '.join(view.metrics)})")
    return view.metrics[name].text


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Numbers a page quotes from a lab are computed by the lab at build time, never typed by hand."""
    return LAB_NUMBER.sub(lab_number, markdown)


def on_config(config):
    """Import labs_py from disk for this build; make the labs' data (digits, LoRA base, teacher) if stale;
    register the `lab` fence."""
    _build.update(runtime=fresh("labs_py.runtime", ROOT), lab=importlib.import_module("labs_py.lab"))
    for script in ("export_digits", "train_digit_teacher", "pretrain_lora_base", "derive_teacher"):  # after labs_py: they import it
        fresh(script, ROOT / "scripts").ensure()
    fences = config.mdx_configs.setdefault("pymdownx.superfences", {}).setdefault("custom_fences", [])
    fences.append({"name": "lab", "class": "lab", "format": format_lab})
    _stats.update(words={}, labs=set(), books=0)
    return config


def on_files(files: Files, config) -> Files:
    """Add a code page, and its nav entry, for every lab that has a page; add every labs_py module as a download."""
    pkg = ROOT / "labs_py"
    labs = _labs("lab").LABS
    own, shared = codepages.split(pkg, labs)
    pages = []
    for lab in codepages.in_nav_order([lab for lab in labs if files.get_file_from_path(f"labs/{lab}.md")], config.nav):
        title = _labs("runtime").lab_module(lab).TITLE
        pages.append(f"code/{lab}.md")
        files.append(File.generated(config, pages[-1], content=codepages.page(pkg, lab, title, own[lab], shared)))
    codepages.add_to_nav(config.nav, pages)
    for src in sorted(pkg.rglob("*.py")):
        files.append(File.generated(config, f"assets/labs/src/{src.relative_to(pkg).as_posix()}", abs_src_path=str(src)))
    return files


def on_page_content(html: str, page, config, files):
    """Record words (articles), labs and books for the stage page's statistics."""
    uri = page.file.src_uri
    if uri.startswith(("articles/", "field-reports/")):
        _stats["words"][uri] = count_words(html)
    if "data-lab=" in html:
        page.meta["has_lab"] = True  # overrides/main.html then starts the worker from <head>
        if uri.startswith("labs/"):
            _stats["labs"].add(uri)
    if uri == "further-reading.md":
        _stats["books"] = len(re.findall(r"<article\b[^>]*\bdata-book\b", html))
    return html


def minutes(words: int) -> int:
    """Reading time in whole minutes (at least 1)."""
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def _fill_stats(site: Path) -> None:
    index = site / "index.html"
    if not index.exists():
        return
    html = index.read_text()
    words = _stats["words"]
    total_min = sum(minutes(w) for w in words.values())
    strip = (
        '<div class="stage-stats" data-stage-stats>'
        f'<div><span class="stage-stats__n" data-stat="articles">{len(words)}</span> articles</div>'
        f'<div><span class="stage-stats__n" data-stat="minutes">{total_min}</span> min read</div>'
        f'<div><span class="stage-stats__n" data-stat="demos">{len(_stats["labs"])}</span> labs</div>'
        f'<div><span class="stage-stats__n" data-stat="books">{_stats["books"]}</span> books</div></div>'
    )
    html = html.replace('<div class="stage-stats" data-stage-stats></div>', strip)

    def reading_time(m: re.Match) -> str:
        uri = m.group(1)
        if uri not in words:
            raise ValueError(f"index.md asks for the reading time of {uri}, which is not an article")
        return f'<span class="reading-time" data-reading-time="{uri}">{minutes(words[uri])} min</span>'

    html = re.sub(r'<span class="reading-time" data-reading-time="([^"]+)"></span>', reading_time, html)

    def steps_total(m: re.Match) -> str:
        n = len(_labs("runtime").lab_module(m.group(1)).STEPS)
        return (f'<span class="steps-done" data-steps-done="{m.group(1)}" data-steps-total="{n}">'
                f"{n} guided steps</span>")

    html = re.sub(r'<span class="steps-done" data-steps-done="([^"]+)"></span>', steps_total, html)
    index.write_text(html)


def _artifact(name: str) -> Path:
    """Where a verified asset from scripts/assets.json lives in the cache."""
    manifest = load_manifest()
    return artifact_dir(ROOT / manifest["cache_dir"], next(a for a in manifest["artifacts"] if a["name"] == name))


def _copy_runtime(site: Path) -> dict:
    manifest = {a["name"]: a for a in load_manifest()["artifacts"]}
    pyo, numpy = _artifact("pyodide"), _artifact("numpy-pyodide")
    if not (pyo / "pyodide.mjs").exists():
        raise FileNotFoundError("runtime assets missing: run `python scripts/fetch_assets.py` (or `make assets`)")
    version = manifest["pyodide"]["version"]
    dest = site / "pyodide" / version
    dest.mkdir(parents=True, exist_ok=True)
    sizes = {}
    for name in RUNTIME_FILES:
        shutil.copyfile(pyo / name, dest / name)
        sizes[name] = (dest / name).stat().st_size
    wheel_name = manifest["numpy-pyodide"]["file"]
    shutil.copyfile(numpy / wheel_name, dest / wheel_name)
    sizes[wheel_name] = (dest / wheel_name).stat().st_size
    # the stylesheet and fonts: formulas are rendered by the build (katex_prerender), no KaTeX script loads
    shutil.copytree(_artifact("katex") / "dist", site / "assets" / "katex", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("*.js", "contrib"))
    sri = "sha256-" + base64.b64encode(bytes.fromhex(manifest["numpy-pyodide"]["sha256"])).decode()
    sizes = {f"pyodide/{version}/{k}": v for k, v in sizes.items()}
    hashes = {"pyodide": _sha256(*(dest / name for name in RUNTIME_FILES)), "libs": _sha256(dest / wheel_name)}
    return {"pyodide": f"pyodide/{version}/", "numpy": wheel_name, "numpy_integrity": sri, "sizes": sizes, "hashes": hashes}


def _sha256(*paths: Path) -> str:
    """One sha256 over the files' bytes, in order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def on_post_build(config):
    """Copy the runtime, build the labs_py wheel, write the runtime config, fill the statistics, render the formulas.

    `hashes` names the Pyodide build, the library set and the labs wheel this site loads; a memory image
    (scripts/heap_snapshot.py, run after the build) is used by the worker only if it carries the same.
    """
    site = Path(config.site_dir)
    runtime = _copy_runtime(site)
    wheels = site / "assets" / "labs" / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    wheel = build_wheel(ROOT / "labs_py", wheels)
    runtime["labs_wheel"] = str(wheel.relative_to(site))
    runtime["sizes"][runtime["labs_wheel"]] = wheel.stat().st_size
    runtime["hashes"]["labs"] = _sha256(wheel)
    runtime["labs"] = list(_labs("lab").LABS)
    (site / "assets" / "labs" / "runtime.json").write_text(json.dumps(runtime, indent=1))
    _fill_stats(site)
    pages = [p for p in sorted(site.rglob("*.html")) if p.relative_to(site).parts[0] not in ("assets", "pyodide", "search")]
    katex_prerender.prerender(pages, _artifact("katex") / "dist" / "katex.min.js")
