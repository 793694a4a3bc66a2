"""Pretrain the LoRA Lab's base model on digits 0–4 and store it in `labs_py/_data/lora_base.json`.

Why: the lab fine-tunes a model that already knows task A; training it in the reader's browser
would cost seconds and could differ in the last bits from the build's snapshot. Pretraining here is
deterministic (seeded He init, seeded minibatches, Adam), takes well under a second, and the file
records the weights' sha256. `ensure()` (called by the site build after the digits export) retrains
only when the file is missing or was made from other data, sizes or settings.

Usage: python scripts/pretrain_lora_base.py [--force]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
import datafile  # noqa: E402
import export_digits  # noqa: E402

from labs_py import digits, lora_base  # noqa: E402
from labs_py import lora_mlp as mlp  # noqa: E402


def up_to_date(path: Path) -> bool:
    """True when `path` holds a base model of this format, made by these settings from these digits."""
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return (doc.get("format") == lora_base.FORMAT and doc.get("sizes") == list(mlp.SIZES)
            and doc.get("pretrain") == lora_base.PRETRAIN and doc.get("digits_sha256") == digits.SHA256)


def write(doc: dict, path: Path) -> None:
    """Write atomically, so a build and a test running at once never read half a file."""
    datafile.write_json(doc, path)


def ensure(force: bool = False, path: Path = lora_base.DATA) -> Path:
    """Export the digits if needed, then pretrain and store the base model unless it is up to date."""
    export_digits.ensure()
    if force or not up_to_date(path):
        write(lora_base.encode(lora_base.pretrain()), path)
        lora_base.load.cache_clear()
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="pretrain even when the stored model is up to date")
    args = parser.parse_args()
    try:
        path = ensure(args.force)
    except export_digits.ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    doc = json.loads(path.read_text())
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes, sha256 {doc['sha256']}, "
          f"held-out accuracy on 0–4 {doc['test_accuracy_A']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
