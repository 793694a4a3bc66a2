"""MkDocs hooks: lab snapshots, generated code pages, page statistics and the self-hosted runtime.

Why: everything the site serves is produced by the build from the repo plus the verified asset
cache, so `mkdocs build` and `mkdocs serve` give the same self-contained site.
"""

from __future__ import annotations

import base64
import hashlib
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

import derive_teacher  # noqa: E402
from fetch_assets import artifact_dir, load_manifest  # noqa: E402
from labwheel import build_wheel  # noqa: E402
from sitestats import WORDS_PER_MINUTE, count_words  # noqa: E402

from labs_py import runtime as lab_runtime  # noqa: E402
from labs_py.lab import LABS  # noqa: E402

RUNTIME_FILES = ("pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
CODE_PAGES = {
    "quantization": ("quant.py", "quantization.py"),
    "lora": ("jacobi_svd.py", "lora_fit.py", "lora.py"),
    "rlhf": ("bradley_terry.py", "dpo.py", "preferences.py", "rlhf.py"),
    "distillation": ("kd.py", "teacher.py", "distillation.py"),
}
SHARED_MODULES = ("lab.py", "controls.py", "html.py", "svg.py", "fmt.py", "runtime.py")
_stats: dict = {"words": {}, "labs": set(), "books": 0}


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
    return lab_runtime.snapshot(name, raw)


def on_config(config):
    """Register the `lab` fence with superfences; derive the Distillation Lab's teacher data if stale."""
    derive_teacher.ensure()
    fences = config.mdx_configs.setdefault("pymdownx.superfences", {}).setdefault("custom_fences", [])
    fences.append({"name": "lab", "class": "lab", "format": format_lab})
    _stats.update(words={}, labs=set(), books=0)
    return config


def _code_page(lab: str, modules: tuple[str, ...]) -> str:
    parts = [f"# Code: the {lab.capitalize()} Lab\n",
             f"The [{lab.capitalize()} Lab](../labs/{lab}.md) is plain Python with numpy. These modules are the "
             "exact files the browser runs under Pyodide and the build runs under CPython to draw the snapshot. "
             "Read them top to bottom, or download them and run them locally.\n"]
    for mod in modules + SHARED_MODULES[:1]:
        src = (ROOT / "labs_py" / mod).read_text()
        parts.append(f"## `labs_py/{mod}`\n\n[Download {mod}](../assets/labs/src/{mod})\n\n```python\n{src}\n```\n")
    parts.append("Shared helpers used by every lab: "
                 + ", ".join(f"[`{m}`](../assets/labs/src/{m})" for m in SHARED_MODULES) + ".\n")
    return "\n".join(parts)


def on_files(files: Files, config) -> Files:
    """Add the generated code pages and the downloadable sources of every lab module."""
    for lab, modules in CODE_PAGES.items():
        if all((ROOT / "labs_py" / m).exists() for m in modules):
            files.append(File.generated(config, f"code/{lab}.md", content=_code_page(lab, modules)))
    for src in sorted((ROOT / "labs_py").glob("*.py")):
        files.append(File.generated(config, f"assets/labs/src/{src.name}", abs_src_path=str(src)))
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
    index.write_text(html)


def _copy_runtime(site: Path) -> dict:
    manifest = {a["name"]: a for a in load_manifest()["artifacts"]}
    cache = ROOT / load_manifest()["cache_dir"]
    pyo = artifact_dir(cache, manifest["pyodide"])
    numpy = artifact_dir(cache, manifest["numpy-pyodide"])
    katex = artifact_dir(cache, manifest["katex"])
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
    shutil.copytree(katex / "dist", site / "assets" / "katex", dirs_exist_ok=True)
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
    """Copy the runtime, build the labs_py wheel, write the runtime config, fill the statistics.

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
    runtime["labs"] = list(LABS)
    (site / "assets" / "labs" / "runtime.json").write_text(json.dumps(runtime, indent=1))
    _fill_stats(site)
