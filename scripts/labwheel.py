"""Build a pure-Python wheel of `labs_py` with the standard library alone.

Why: Pyodide installs the labs from a wheel served by the site; building it directly (a zip with
METADATA, WHEEL and RECORD, PEP 427) takes milliseconds, needs no build backend download, and is
byte-for-byte reproducible. The wheel lands in a folder named by its content hash, so a new build
never meets a stale browser cache.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zipfile
from pathlib import Path

FIXED_TIME = (2024, 1, 1, 0, 0, 0)


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def package_files(pkg: Path) -> list[Path]:
    """Python modules and generated data files of the package, sorted."""
    return sorted(p for p in pkg.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                  and (p.suffix == ".py" or "_data" in p.parts))


def build_wheel(pkg: Path, out_dir: Path) -> Path:
    """Write `labs_py-<version>-py3-none-any.whl` under out_dir/<hash>/ and return its path."""
    version = re.search(r'__version__ = "([^"]+)"', (pkg / "__init__.py").read_text()).group(1)
    name = pkg.name
    dist = f"{name}-{version}.dist-info"
    entries: list[tuple[str, bytes]] = [(f"{name}/{p.relative_to(pkg).as_posix()}", p.read_bytes())
                                        for p in package_files(pkg)]
    entries.append((f"{dist}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                        "Requires-Dist: numpy\n".encode()))
    entries.append((f"{dist}/WHEEL", b"Wheel-Version: 1.0\nGenerator: scripts/wheel.py\nRoot-Is-Purelib: true\n"
                                     b"Tag: py3-none-any\n"))
    entries.append((f"{dist}/top_level.txt", f"{name}\n".encode()))
    record = "".join(f"{n},{_record_hash(d)},{len(d)}\n" for n, d in entries) + f"{dist}/RECORD,,\n"
    entries.append((f"{dist}/RECORD", record.encode()))
    digest = hashlib.sha256(b"".join(n.encode() + d for n, d in entries)).hexdigest()[:12]
    target = out_dir / digest / f"{name}-{version}-py3-none-any.whl"
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in entries:
            info = zipfile.ZipInfo(n, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, d)
    return target
