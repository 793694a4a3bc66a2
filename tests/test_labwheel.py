"""The labs_py wheel: a valid PEP 427 wheel that pip can install and whose RECORD hashes are right."""

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

from labwheel import build_wheel

ROOT = Path(__file__).resolve().parent.parent


def test_record_lists_every_file_with_its_hash(tmp_path):
    wheel = build_wheel(ROOT / "labs_py", tmp_path)
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        record = z.read("labs_py-0.1.0.dist-info/RECORD").decode().splitlines()
        for line in record:
            name, digest, size = line.split(",")
            if name.endswith("RECORD"):
                continue
            data = z.read(name)
            want = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == want and int(size) == len(data)
        assert {ln.split(",")[0] for ln in record} == names
        assert "labs_py/quantization.py" in names


def test_build_is_reproducible(tmp_path):
    a = build_wheel(ROOT / "labs_py", tmp_path / "a")
    b = build_wheel(ROOT / "labs_py", tmp_path / "b")
    assert a.read_bytes() == b.read_bytes() and a.parent.name == b.parent.name


def test_pip_installs_it_and_it_imports(tmp_path):
    wheel = build_wheel(ROOT / "labs_py", tmp_path / "w")
    target = tmp_path / "t"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], check=True)
    out = subprocess.run([sys.executable, "-c", "import labs_py.runtime, labs_py; print(labs_py.__file__)"],
                         cwd=tmp_path, env={"PYTHONPATH": str(target)}, capture_output=True, text=True, check=True)
    assert str(target) in out.stdout
