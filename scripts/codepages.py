"""The generated "Code" pages: each lab's own modules in full, found by following its imports.

Why: readers study a lab as code as well as use it. Lists written by hand go stale when a lab is
split into several modules or a lab is added, so each lab's modules are read from the source:
the `labs_py` modules the lab module imports, transitively (parsed with `ast`, nothing executed).
A module that only one lab needs is shown in full on that lab's page; the rest are shared helpers.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "labs_py"
CONTRACT = "lab"  # the module every lab implements against, shown in full on every code page


def module_file(pkg: Path, name: str) -> Path | None:
    """The file of module `name` (dotted, relative to the package: "quant", "lora.model"), if it exists."""
    base = pkg.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _from_target(name: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute dotted module of a `from … import` written inside module `name` of the package."""
    if node.level == 0:
        return node.module or ""
    parts = [PACKAGE, *name.split(".")] if is_package else [PACKAGE, *name.split(".")[:-1]]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, *([node.module] if node.module else [])])


def imports(pkg: Path, name: str) -> list[str]:
    """The package's modules that module `name` imports (absolute or relative imports), in source order."""
    path = module_file(pkg, name)
    found: list[str] = []

    def add(full: str) -> None:
        inner = full.removeprefix(PACKAGE + ".")
        if full.startswith(PACKAGE + ".") and inner not in found and module_file(pkg, inner):
            found.append(inner)

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            target = _from_target(name, path.name == "__init__.py", node)
            add(target)
            for alias in node.names:  # `from labs_py import quant`: an imported name may be a module
                add(f"{target}.{alias.name}")
    return found


def closure(pkg: Path, lab: str) -> list[str]:
    """The lab module and every package module it imports, transitively; each after the modules it imports."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dep in imports(pkg, name):
            visit(dep)
        order.append(name)

    visit(lab)
    return order


def split(pkg: Path, labs: tuple[str, ...]) -> tuple[dict[str, list[str]], list[str]]:
    """({lab: the modules only that lab uses, dependencies first}, the other modules of the package, sorted)."""
    uses = {lab: closure(pkg, lab) for lab in labs}
    users: dict[str, int] = {}
    for mods in uses.values():
        for m in mods:
            users[m] = users.get(m, 0) + 1
    own = {lab: [m for m in mods if users[m] == 1] for lab, mods in uses.items()}
    owned = {m for mods in own.values() for m in mods}
    every = sorted(p.relative_to(pkg).with_suffix("").as_posix().removesuffix("/__init__").replace("/", ".")
                   for p in pkg.rglob("*.py"))
    return own, [m for m in every if m not in owned and m != "__init__"]


def source_path(pkg: Path, name: str) -> str:
    """The module's file relative to the package ("quant.py", "lora/__init__.py")."""
    return module_file(pkg, name).relative_to(pkg).as_posix()


def page(pkg: Path, lab: str, title: str, own: list[str], shared: list[str]) -> str:
    """The Markdown of one lab's code page; downloads are linked from ../assets/labs/src/."""
    parts = ["---\nhide:\n  - toc\n---\n",  # the column takes the table of contents' width: fewer lines wrap
             f"# Code: the {title}\n",
             f"The [{title}](../labs/{lab}.md) is plain Python with numpy. These modules are the exact files the "
             "browser runs under Pyodide and the build runs under CPython to draw the snapshot. Read them top to "
             "bottom, or download them and run them locally.\n"]
    for name in [*own, *([CONTRACT] if CONTRACT in shared else [])]:
        rel = source_path(pkg, name)
        parts.append(f"## `{PACKAGE}/{rel}`\n\n[Download {Path(rel).name}](../assets/labs/src/{rel})\n\n"
                     f"```{{.python .lab-source}}\n{module_file(pkg, name).read_text()}\n```\n")
    links = ", ".join(f"[`{source_path(pkg, m)}`](../assets/labs/src/{source_path(pkg, m)})" for m in shared)
    parts.append(f"The other modules of `{PACKAGE}` are shared by the labs: {links}.\n")
    return "\n".join(parts)


def nav_pages(nav: list | dict | str | None) -> list[str]:
    """Every page path in a `nav` config, in reading order."""
    if isinstance(nav, str):
        return [nav]
    items = nav.values() if isinstance(nav, dict) else nav or []
    return [uri for item in items for uri in nav_pages(item)]


def in_nav_order(labs: list[str], nav: list | None) -> list[str]:
    """Labs sorted as their pages (labs/<lab>.md) appear in the nav; labs not in it keep their order, last."""
    pages = nav_pages(nav)
    return sorted(labs, key=lambda lab: pages.index(f"labs/{lab}.md") if f"labs/{lab}.md" in pages else len(pages))


def add_to_nav(nav: list | None, pages: list[str]) -> None:
    """Add a "Code" section listing `pages` to the nav's "Labs" section, or at its end without one.

    Entries carry no title, so the nav and the browser tab show each page's own H1. Without a nav
    MkDocs lists every page itself, so there is nothing to add.
    """
    if nav is None or not pages:
        return
    section = {"Code": list(pages)}
    for item in nav:
        if isinstance(item, dict) and isinstance(item.get("Labs"), list):
            item["Labs"].append(section)
            return
    nav.append(section)
