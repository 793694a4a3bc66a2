"""The asset fetcher: sources tried in order, every failure reported, a hash mismatch refused."""

import hashlib

import fetch_assets
import pytest


def artifact(tmp_path, payload: bytes, sha: str):
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "thing.bin").write_bytes(payload)
    return {"name": "thing", "version": "1", "file": "thing.bin", "sha256": sha,
            "sources": [{"url": "http://127.0.0.1:9/thing.bin"}, {"mirror": "thing.bin"}]}


def test_falls_back_to_the_mirror_and_verifies(tmp_path):
    payload = b"real bytes"
    art = artifact(tmp_path, payload, hashlib.sha256(payload).hexdigest())
    dest = tmp_path / "out"
    dest.mkdir()
    used = fetch_assets.fetch_file(art, dest, tmp_path / "mirror", offline=False, want=art["sha256"])
    assert used == "mirror=thing.bin"
    assert (dest / "thing.bin").read_bytes() == payload


def test_hash_mismatch_is_an_error_and_leaves_nothing(tmp_path):
    art = artifact(tmp_path, b"tampered", "0" * 64)
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(fetch_assets.AssetError, match="refusing it"):
        fetch_assets.fetch_file(art, dest, tmp_path / "mirror", offline=False, want=art["sha256"])
    assert not (dest / "thing.bin").exists()


def test_every_failed_source_is_named(tmp_path):
    art = artifact(tmp_path, b"x", "0" * 64)
    art["sources"][1] = {"mirror": "missing.bin"}
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(fetch_assets.AssetError) as exc:
        fetch_assets.fetch_file(art, dest, tmp_path / "mirror", offline=False, want="0" * 64)
    text = str(exc.value)
    assert "url=http://127.0.0.1:9/thing.bin" in text and "mirror=missing.bin" in text and "does not exist" in text


def test_manifest_pins_numpy_to_the_official_lock_value():
    manifest = fetch_assets.load_manifest()
    numpy = next(a for a in manifest["artifacts"] if a["name"] == "numpy-pyodide")
    assert numpy["sha256"] == "ebb61241d962b98b21597d7ce43b67668a6d5bab3acec4fbe958657320d7cd08"
    assert [next(iter(s)) for s in numpy["sources"]] == ["url", "mirror", "pypi"]
