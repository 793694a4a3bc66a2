"""Derive the Distillation Lab's teacher data from the verified GPT-2 outputs in the asset cache.

Why: the raw files (two 2.8 MB logit arrays, GLTR's top-20 JSON, GPT-2's vocabulary) never enter
git and are too big to ship to a browser; the lab needs a few kilobytes of them. This script
checks every input's sha256, reduces them to `labs_py/_data/teacher.json` and is deterministic:
the same inputs give the same bytes. `ensure()` (called by the site build) re-derives only when
an input or this script changed.

Per context: the prefix text; the teacher's (GPT-2 117M) top-K tokens with their logits, plus the
true next token when it ranks lower; GPT-2 345M's logits at the same tokens; and, on the lab's
temperature grid, log Σ_tail exp(z_j / T) for both models, the tail's mean tempered logit and the
345M tail's mean tempered logit difference, so softening the "rest of vocabulary" bucket, the
full-vocabulary entropy and the full-vocabulary KL(345M ‖ 117M) all stay exact.

Usage: python scripts/derive_teacher.py [--force]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import sys
from functools import lru_cache
from pathlib import Path

import datafile
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fetch_assets import ROOT, artifact_dir, load_manifest, sha256_of

sys.path.insert(0, str(ROOT))
from labs_py import teacher
from labs_py.kd import logsumexp

NEWLINES = re.compile(r"\s*\n\s*")

K = 20  # top tokens kept per context (GLTR publishes exactly 20)
SENTENCE = " natural language processing tools such as gluonnlp and torchtext"  # gluon-nlp's test sentence
GLTR_CONTEXTS = (  # (demo, position): chosen to show a confident, a split and a wide next-token distribution
    ("woodchuck", 4), ("woodchuck", 13), ("woodchuck", 15), ("woodchuck", 17),
    ("unicorn", 25), ("unicorn", 43), ("unicorn", 86), ("unicorn", 106),
)
PREFIX_CHARS = 160  # longer prefixes are shortened at the front
LABEL_CHARS = 30  # characters of the prefix shown in the context menu
INPUTS = {  # role → artifact name in scripts/assets.json
    "logits": "gpt2-117M-logits", "logits_ref": "gpt2-345M-logits", "vocab": "gpt2-encoder",
    "woodchuck": "gltr-woodchuck", "unicorn": "gltr-unicorn",
}
# GPT-2's pre-tokenizer (openai/gpt-2 encoder.py), with \p{L} → [^\W\d_] and \p{N} → \d for Python's re.
PRETOKEN = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")
RAW_URL = re.compile(r"https://raw\.githubusercontent\.com/([^/]+/[^/]+)/([0-9a-f]{40})/(.+)")


class DeriveError(RuntimeError):
    """An input is missing or does not verify."""


# ---- GPT-2's byte-level BPE vocabulary ---------------------------------------------------------

@lru_cache(maxsize=1)
def byte_decoder() -> dict[str, int]:
    """GPT-2's bytes_to_unicode table, inverted: each vocabulary symbol character → the byte it stands for.

    Printable Latin-1 bytes stand for themselves; the other 68 bytes (space, newline, controls, …) are
    shifted to U+0100 onwards, which is why a leading space appears as 'Ġ' and a newline as 'Ċ'.
    """
    bs = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    cs = bs[:]
    shifted = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + shifted)
            shifted += 1
    return {chr(c): b for b, c in zip(bs, cs, strict=True)}


def symbol_bytes(symbol: str) -> bytes:
    """The raw bytes of a vocabulary symbol ('Ġas' → b' as')."""
    table = byte_decoder()
    return bytes(table[ch] for ch in symbol)


def token_text(symbol: str) -> str:
    """A symbol as text; a lone piece of a multi-byte character shows as its escape (e.g. '\\xc3')."""
    return symbol_bytes(symbol).decode("utf-8", errors="backslashreplace")


def decode(ids: list[int], vocab: list[str]) -> str:
    """Token ids → text: concatenate the symbols' bytes, then decode UTF-8 once."""
    return b"".join(symbol_bytes(vocab[i]) for i in ids).decode("utf-8", errors="replace")


def bpe(word: str, encoder: dict[str, int]) -> list[str]:
    """Byte-pair-merge one pre-token's symbols: repeatedly merge the adjacent pair whose merge has the lowest rank.

    GPT-2's vocabulary lists merges in the order they were learned (id = 256 + merge rank), so the
    rank of merging a and b is the id of a + b; this is how tiktoken encodes GPT-2 text.
    """
    parts = list(word)
    while len(parts) > 1:
        ranks = [encoder.get(a + b, -1) for a, b in itertools.pairwise(parts)]
        candidates = [(r, i) for i, r in enumerate(ranks) if r >= 0]
        if not candidates:
            break
        _, i = min(candidates)
        parts[i:i + 2] = [parts[i] + parts[i + 1]]
    return parts


def encode(text: str, encoder: dict[str, int]) -> list[int]:
    """Text → GPT-2 token ids (pre-tokenize, map bytes to symbols, BPE-merge)."""
    to_symbol = {b: ch for ch, b in byte_decoder().items()}
    ids = []
    for piece in PRETOKEN.findall(text):
        word = "".join(to_symbol[b] for b in piece.encode("utf-8"))
        ids += [encoder[s] for s in bpe(word, encoder)]
    return ids


# ---- inputs -------------------------------------------------------------------------------------

def artifacts() -> dict[str, dict]:
    """The manifest entries of the inputs, by role."""
    by_name = {a["name"]: a for a in load_manifest()["artifacts"]}
    return {role: by_name[name] for role, name in INPUTS.items()}


def input_paths() -> dict[str, Path]:
    """Where each input lives in the asset cache."""
    cache = ROOT / load_manifest()["cache_dir"]
    paths = {}
    for role, art in artifacts().items():
        rel = art.get("file") or Path(next(iter(art["files"]))).relative_to("package")
        paths[role] = artifact_dir(cache, art) / rel
    return paths


def verified_hashes() -> dict[str, str]:
    """sha256 of every input, checked against the manifest (or, for npm files, the fetch's verified stamp)."""
    hashes, arts = {}, artifacts()
    for role, path in input_paths().items():
        art = arts[role]
        if not path.is_file():
            raise DeriveError(f"{path} is missing: run `python scripts/fetch_assets.py` (or `make assets`)")
        got = sha256_of(path)
        if "sha256" in art:
            want = art["sha256"]
        else:
            stamp = path.parent / ".verified.json"
            want = json.loads(stamp.read_text()).get(path.name) if stamp.is_file() else None
        if got != want:
            raise DeriveError(f"{path}: sha256 {got} does not match the verified {want}; re-run scripts/fetch_assets.py")
        hashes[role] = got
    return hashes


def provenance() -> dict:
    """Model, project, commit, URLs and licence of each source, read from the manifest."""
    arts = artifacts()

    def github(*roles: str) -> tuple[str, str, list[str]]:
        matches = [RAW_URL.match(arts[r]["sources"][0]["url"]) for r in roles]
        return matches[0].group(1), matches[0].group(2), [m.group(0) for m in matches]

    gluon_repo, gluon_commit, gluon_urls = github("logits", "logits_ref")
    gltr_repo, gltr_commit, gltr_urls = github("woodchuck", "unicorn")
    return {
        "gluon": {"model": "GPT-2 small (117M) and GPT-2 medium (345M), full-vocabulary logits",
                  "project": gluon_repo, "commit": gluon_commit, "urls": gluon_urls, "licence": arts["logits"]["licence"]},
        "gltr": {"model": "GPT-2 small (117M), top-20 probabilities rounded to 5 decimals (GLTR demos)",
                 "project": gltr_repo, "commit": gltr_commit, "urls": gltr_urls, "licence": arts["unicorn"]["licence"]},
        "vocab": {"model": "GPT-2 BPE vocabulary (encoder.json)", "project": f"npm {arts['vocab']['npm']}",
                  "commit": "", "urls": [], "licence": arts["vocab"]["licence"]},
    }


# ---- contexts -----------------------------------------------------------------------------------

def tail_sums(z_tail: np.ndarray, w_tail: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each T on the lab's grid: log Σ exp(z_j / T) and E_q[w_j / T] with q = softmax(z_tail / T), w = z by default.

    One temperature at a time over the shifted logits d = z − max z ≤ 0: a few passes over ~50,000
    numbers per T, in buffers that stay in cache.
    """
    w = z_tail if w_tail is None else w_tail
    top = float(z_tail.max())
    d = z_tail - top  # (m,)
    a, e = np.empty_like(d), np.empty_like(d)  # (m,) each: d / T and exp(d / T)
    lse, mean = np.empty(teacher.T_GRID.size), np.empty(teacher.T_GRID.size)  # (G,) each
    for i, T in enumerate(teacher.T_GRID.tolist()):
        np.divide(d, T, out=a)
        np.exp(a, out=e)
        total = float(e.sum())
        lse[i] = top / T + np.log(total)
        mean[i] = float(np.multiply(e, w, out=a).sum()) / (total * T)  # Σ q_j · w_j / T, without BLAS
    return lse, mean


def shorten(text: str, limit: int) -> str:
    """The last `limit` characters of text, cut at a space when one is near, with a leading '…'."""
    if len(text) <= limit:
        return text
    cut = text[-limit:]
    space = cut.find(" ")
    return "…" + (cut[space + 1:] if 0 <= space < limit // 3 else cut)


def menu_text(prefix: str, limit: int) -> str:
    """The end of a prefix on one line for the context menu: newlines drawn as ↵."""
    return NEWLINES.sub(" ↵ ", shorten(prefix, limit)).strip()


def gluon_contexts(z117: np.ndarray, z345: np.ndarray, ids: list[int], vocab: list[str]) -> list[dict]:
    """One context per position of the gluon-nlp sentence: row t predicts the token after the first t + 1."""
    out = []
    for t in range(z117.shape[0]):
        z, z_ref = z117[t].astype(np.float64), z345[t].astype(np.float64)  # (V,)
        order = np.argsort(-z, kind="stable")
        top = order[:K].tolist()
        top_k = len(top)
        y_id = ids[t + 1] if t + 1 < len(ids) else None
        y_rank = int(np.sum(z > z[y_id])) + 1 if y_id is not None else None
        if y_id is not None and y_id not in top:
            top.append(y_id)
        tail = np.ones(z.size, bool)
        tail[top] = False
        lse, mean = tail_sums(z[tail])
        lse_ref, cross = tail_sums(z_ref[tail], z_ref[tail] - z[tail])
        prefix = decode(ids[:t + 1], vocab)
        full = logsumexp(z)
        out.append({
            "key": f"g{t}", "source": "gluon",
            "label": f"{t + 1}/{z117.shape[0]}: {menu_text(prefix, LABEL_CHARS)}",
            "prefix": shorten(prefix, PREFIX_CHARS),
            "token_ids": top, "tokens": [token_text(vocab[i]) for i in top],
            "z": z[top].tolist(), "z_ref": z_ref[top].tolist(),
            "y": top.index(y_id) if y_id is not None else None, "y_rank": y_rank, "top_k": top_k,
            "tail_size": int(tail.sum()), "tail_lse": lse.tolist(), "tail_mean": mean.tolist(),
            "tail_lse_ref": lse_ref.tolist(), "tail_cross": cross.tolist(), "top_mass": float(np.exp(logsumexp(z[top]) - full)),
            "note": "",
        })
    return out


def gltr_context(demo: str, pos: int, data: dict, encoder: dict[str, int], vocab: list[str]) -> dict:
    """One GLTR position: its top-20 (unmappable or zero entries dropped) plus the true next token if lower."""
    result = data["result"]
    strings, pred, real = result["bpe_strings"], result["pred_topk"][pos], result["real_topk"][pos]
    dropped = [s for s, p in pred if s not in encoder or p <= 0]
    kept = [(encoder[s], float(p)) for s, p in pred if s in encoder and p > 0]
    true_symbol = strings[pos + 1]
    y_id = encoder.get(true_symbol)
    ids = [i for i, _ in kept]
    top_k = len(ids)
    if y_id is not None and y_id not in ids and real[1] > 0:
        kept.append((y_id, float(real[1])))
        ids.append(y_id)
    notes = [f"{len(dropped)} of the published top-20 could not be used (no vocabulary id or probability 0)."] if dropped else []
    if y_id is None or y_id not in ids:
        notes.append("The true next token could not be mapped to a vocabulary id with a probability.")
    words = [encoder[s] for s in strings[1:pos + 1]]  # position 0 is <|endoftext|>, the start of the text
    prefix = decode(words, vocab)
    return {
        "key": f"{demo[0]}{pos}", "source": "gltr",
        "label": f"top-20 only · {demo}: {menu_text(prefix, LABEL_CHARS)}",
        "prefix": shorten(prefix, PREFIX_CHARS),
        "token_ids": ids, "tokens": [token_text(vocab[i]) for i in ids],
        "z": [float(np.log(p)) for _, p in kept],
        "y": ids.index(y_id) if y_id in ids else None, "y_rank": int(real[0]) + 1 if y_id in ids else None,
        "top_k": top_k, "tail_size": 0, "top_mass": float(sum(p for s, p in pred if s in encoder and p > 0)), "note": " ".join(notes),
    }


def derive() -> dict:
    """The whole teacher.json document from verified inputs."""
    hashes = verified_hashes()
    paths = input_paths()
    encoder = json.loads(paths["vocab"].read_text(encoding="utf-8"))
    vocab = sorted(encoder, key=encoder.get)
    z117, z345 = np.load(paths["logits"])[0], np.load(paths["logits_ref"])[0]  # (14, V) each
    ids = encode(SENTENCE, encoder)
    if len(ids) != z117.shape[0] or decode(ids, vocab) != SENTENCE:
        raise DeriveError(f"the sentence encodes to {len(ids)} tokens, the logits have {z117.shape[0]} positions")
    demos = {demo: json.loads(paths[demo].read_text(encoding="utf-8")) for demo in {d for d, _ in GLTR_CONTEXTS}}
    contexts = gluon_contexts(z117, z345, ids, vocab)
    contexts += [gltr_context(demo, pos, demos[demo], encoder, vocab) for demo, pos in GLTR_CONTEXTS]
    return {"format": teacher.FORMAT, "deriver": deriver_hash(), "inputs": hashes, "vocab_size": len(vocab),
            "sentence_ids": ids, "T_grid": teacher.T_GRID.tolist(), "sources": provenance(), "contexts": contexts}


def deriver_hash() -> str:
    """sha256 of this script and of the data format: a change to either re-derives."""
    return hashlib.sha256(Path(__file__).read_bytes() + str(teacher.FORMAT).encode()).hexdigest()


def up_to_date(path: Path) -> bool:
    """True when `path` was derived by this script from the inputs now in the cache."""
    if not path.is_file():
        return False
    try:
        data = json.loads(path.read_text())
    except ValueError:
        return False
    return data.get("deriver") == deriver_hash() and data.get("inputs") == verified_hashes()


def write(doc: dict, path: Path) -> None:
    """Write atomically, so a build and a test running at once never read half a file."""
    datafile.write_json(doc, path, ensure_ascii=False)


def ensure(force: bool = False, path: Path = teacher.DATA) -> Path:
    """Derive teacher.json unless it is already up to date; return its path."""
    if force or not up_to_date(path):
        write(derive(), path)
        teacher.load.cache_clear()
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="derive even when the data is up to date")
    args = parser.parse_args()
    try:
        path = ensure(args.force)
    except DeriveError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
