"""scripts/codepages.py: each lab's modules are what importing the lab really loads; split and new labs need no list."""

import json
import subprocess
import sys
import textwrap

import codepages
import pytest
from conftest import ROOT

from labs_py.lab import LABS

PKG = ROOT / "labs_py"

# Import each lab in a fresh module table and report which labs_py modules Python actually loaded.
LOADED = """
import json, sys
out = {}
for lab in sys.argv[1:]:
    for name in [m for m in sys.modules if m.startswith("labs_py")]:
        del sys.modules[name]
    __import__(f"labs_py.{lab}")
    out[lab] = sorted(m.removeprefix("labs_py.") for m in sys.modules if m.startswith("labs_py."))
print(json.dumps(out))
"""


def test_each_labs_modules_are_the_ones_importing_it_loads():
    proc = subprocess.run([sys.executable, "-c", LOADED, *LABS], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = json.loads(proc.stdout)
    for lab in LABS:
        assert sorted(codepages.closure(PKG, lab)) == loaded[lab], lab


def write(pkg, files: dict[str, str]) -> None:
    for rel, src in files.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(src))


@pytest.fixture
def split_package(tmp_path):
    """A package like labs_py after a lab is split in three and a lab lives in a subpackage."""
    pkg = tmp_path / "labs_py"
    write(pkg, {
        "__init__.py": "",
        "svg.py": "",
        "lab.py": "",
        "runtime.py": "from labs_py.lab import LABS\n",
        "planner.py": """
            from labs_py import planner_view
            from labs_py.planner_model import plan
            import labs_py.svg
            def render():
                from .lab import View  # relative, inside a function
            """,
        "planner_model.py": "import numpy as np\nfrom . import svg\n",
        "planner_view.py": "from .planner_model import plan\nfrom labs_py.lab import View\n",
        "lora/__init__.py": "from .model import fit\nfrom ..svg import line_chart\n",
        "lora/model.py": "from labs_py.lab import View\n",
    })
    return pkg


def test_closure_follows_absolute_relative_and_nested_imports(split_package):
    order = codepages.closure(split_package, "planner")
    assert sorted(order) == ["lab", "planner", "planner_model", "planner_view", "svg"]
    assert order.index("planner_model") < order.index("planner_view") < order.index("planner") == len(order) - 1
    assert order.index("svg") < order.index("planner_model")
    assert sorted(codepages.closure(split_package, "lora")) == ["lab", "lora", "lora.model", "svg"]


def test_modules_of_one_lab_are_its_own_the_rest_are_shared(split_package):
    own, shared = codepages.split(split_package, ("planner", "lora"))
    assert own == {"planner": ["planner_model", "planner_view", "planner"], "lora": ["lora.model", "lora"]}
    assert shared == ["lab", "runtime", "svg"]
    page = codepages.page(split_package, "lora", "LoRA Lab", own["lora"], shared)
    assert "# Code: the LoRA Lab\n" in page and "](../labs/lora.md)" in page
    assert "## `labs_py/lora/model.py`" in page and "## `labs_py/lora/__init__.py`" in page
    assert "## `labs_py/lab.py`" in page and "## `labs_py/svg.py`" not in page
    assert "[`runtime.py`](../assets/labs/src/runtime.py)" in page


def test_code_section_goes_under_labs_in_nav_order():
    nav = [{"Home": "index.md"}, {"Labs": [{"LoRA Lab": "labs/lora.md"}, {"Quantization Lab": "labs/quantization.md"}]}]
    labs = codepages.in_nav_order(["quantization", "planner", "lora"], nav)
    assert labs == ["lora", "quantization", "planner"]
    codepages.add_to_nav(nav, [f"code/{lab}.md" for lab in labs])
    assert nav[1]["Labs"][-1] == {"Code": ["code/lora.md", "code/quantization.md", "code/planner.md"]}
    flat = ["labs/quantization.md"]
    codepages.add_to_nav(flat, ["code/quantization.md"])
    assert flat[-1] == {"Code": ["code/quantization.md"]}
