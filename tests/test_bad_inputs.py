"""The bad-input catalogue: hostile inputs to every subcommand and to the public API.

Each command-line case asserts three things: the exit code (2), a message on stderr that names the
problem, and that the working folder holds nothing new afterwards (no partial output, no lock file,
no half-written table). Each API case asserts the exception type and a message naming the problem.
The cases run in process (``pairspace.cli.main``), so the whole catalogue takes seconds.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from pairspace.cli import main


@dataclass(frozen=True)
class Case:
    """One hostile command line; ``match`` must appear in stderr."""

    name: str
    tokens: list[str]
    match: str

    def argv(self, tmp: Path) -> list[str]:
        """The command line, with ``@name`` standing for ``tmp/name``."""
        return [str(tmp / t[1:]) if t.startswith("@") else t for t in self.tokens]


def _fixtures(tmp: Path) -> None:
    """Valid inputs every case starts from (written before the snapshot)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6))
    np.save(tmp / "X.npy", X)
    np.save(tmp / "Y.npy", X @ rng.normal(size=(6, 5)))
    np.save(tmp / "short.npy", X[:30])
    np.save(tmp / "vec1d.npy", X[:, 0])
    nan = X.copy()
    nan[3, 2] = np.nan
    np.save(tmp / "nan.npy", nan)
    inf = X.copy()
    inf[5, 1] = np.inf
    np.save(tmp / "inf.npy", inf)
    zero = X.copy()
    zero[7] = 0.0
    np.save(tmp / "zero.npy", zero)
    np.save(tmp / "big.npy", rng.normal(size=(5001, 2)))
    (tmp / "a.txt").write_text("not a matrix\n")
    (tmp / "empty.csv").write_text("")
    (tmp / "words.csv").write_text("id,f0,f1\na,1.0,x\nb,2.0,y\nc,3.0,z\n")
    (tmp / "ids_a.csv").write_text("id,f0,f1\n" + "".join(f"a{i},{i},{i * i % 7}\n" for i in range(10)))
    (tmp / "ids_b.csv").write_text("id,f0,f1\n" + "".join(f"b{i},{i},{i * 3 % 7}\n" for i in range(10)))
    (tmp / "afile").write_text("I am a file\n")
    # word2vec binary header claiming 999,999,999 x 99,999 floats (364 TiB) in a 16-byte file
    (tmp / "huge.bin").write_bytes(b"999999999 99999\n")
    (tmp / "captions.jsonl").write_text('{"id": "c1", "text": "a dog"}\n{"id": "c2"}\n')
    (tmp / "labels.jsonl").write_text('{"id": "c1", "text": "a dog", "label": "dog"}\n'
                                      '{"id": "c2", "text": "a cat"}\n')
    (tmp / "holes.csv").write_text("id,text,label\nc1,a dog,dog\nc2,,cat\n")
    (tmp / "pairs_bad.jsonl").write_text('{"audio_id": "a0", "text_id": "t0"}\n{"audio_id": \n')
    (tmp / "classes.txt").write_text("dog\ncat\n")
    (tmp / "templates.json").write_text("not json")
    imgs = tmp / "imgs" / "cls"
    imgs.mkdir(parents=True)
    (imgs / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    (imgs / "also_broken.jpg").write_bytes(b"\xff\xd8\xffbroken")


COMPARE = [
    Case("compare-missing-file", ["compare", "@nope.npy", "@Y.npy"], r"nope\.npy"),
    Case("compare-nan", ["compare", "@nan.npy", "@Y.npy"], r"NaN"),
    Case("compare-inf", ["compare", "@X.npy", "@inf.npy"], r"inf"),
    Case("compare-1d", ["compare", "@vec1d.npy", "@Y.npy"], r"2-D"),
    Case("compare-row-mismatch", ["compare", "@X.npy", "@short.npy"], r"40 rows.*30|same number of rows"),
    Case("compare-k-zero", ["compare", "@X.npy", "@Y.npy", "--k", "0"], r"k"),
    Case("compare-k-too-large", ["compare", "@X.npy", "@Y.npy", "--k", "40"], r"out of range|n-1|n - 1"),
    Case("compare-kmax-negative", ["compare", "@X.npy", "@Y.npy", "--k-max", "-1"], r"k-max|k_max"),
    Case("compare-bad-metric", ["compare", "@X.npy", "@Y.npy", "--metric", "l7"], r"invalid choice"),
    Case("compare-unknown-measure", ["compare", "@X.npy", "@Y.npy", "--measures", "nngs,bogus"], r"bogus"),
    Case("compare-negative-permutations", ["compare", "@X.npy", "@Y.npy", "--permutations", "-5"],
         r"permutations"),
    Case("compare-negative-bootstrap", ["compare", "@X.npy", "@Y.npy", "--bootstrap", "-1"], r"bootstrap"),
    Case("compare-negative-top", ["compare", "@X.npy", "@Y.npy", "--top", "-3"], r"top"),
    Case("compare-negative-band", ["compare", "@X.npy", "@Y.npy", "--band-permutations", "-4"], r"band"),
    Case("compare-level-above-one", ["compare", "@X.npy", "@Y.npy", "--level", "1.5"], r"level"),
    Case("compare-out-is-file", ["compare", "@X.npy", "@Y.npy", "--out", "@afile"], r"afile"),
    Case("compare-out-under-file", ["compare", "@X.npy", "@Y.npy", "--out", "@afile/sub"], r"afile"),
    Case("compare-disjoint-ids", ["compare", "@ids_a.csv", "@ids_b.csv"], r"a0|b0|id"),
    Case("compare-unknown-suffix", ["compare", "@a.txt", "@Y.npy"], r"a\.txt|format|suffix"),
    Case("compare-empty-csv", ["compare", "@empty.csv", "@Y.npy"], r"empty\.csv|empty|no "),
    Case("compare-text-column", ["compare", "@words.csv", "@words.csv"], r"f1|numeric|column"),
    Case("compare-rbf-cka-too-large", ["compare", "@big.npy", "@big.npy", "--measures", "rbf_cka"],
         r"rbf_cka|5000|5,000"),
    Case("compare-cosine-zero-row", ["compare", "@zero.npy", "@Y.npy", "--metric", "cosine"], r"zero"),
]

ANALOGY = [
    Case("analogy-missing-vectors", ["analogy", "--vectors", "@nope.txt", "--out", "@o"], r"nope\.txt"),
    Case("analogy-huge-word2vec-header", ["analogy", "--vectors", "@huge.bin", "--out", "@o"],
         r"huge\.bin|header|size"),
    Case("analogy-missing-questions", ["analogy", "--questions", "@nope-q.txt", "--out", "@o"],
         r"nope-q\.txt"),
    Case("analogy-k-fraction-too-large", ["analogy", "--k", "1.5", "--out", "@o"], r"k"),
    Case("analogy-bad-metric", ["analogy", "--metric", "manhattan", "--out", "@o"], r"invalid choice"),
    Case("analogy-out-is-file", ["analogy", "--out", "@afile"], r"afile"),
    Case("analogy-negative-bootstrap", ["analogy", "--bootstrap", "-2", "--out", "@o"], r"bootstrap"),
]

TEMPLATES = [
    Case("template-missing-media", ["template-study", "--media", "@nope.parquet", "--text-embeddings",
                                    "@Y.npy", "--out", "@o"], r"nope\.parquet"),
    Case("template-unknown-templates", ["template-study", "--media", "@nope.parquet", "--text-embeddings",
                                        "@Y.npy", "--templates", "no_such_set", "--out", "@o"],
         r"no_such_set"),
    Case("template-bad-templates-file", ["template-study", "--media", "@nope.parquet", "--text-embeddings",
                                         "@Y.npy", "--templates", "@templates.json", "--out", "@o"],
         r"templates\.json"),
    Case("template-k-zero", ["template-study", "--synthetic", "--k", "0", "--out", "@o"], r"k"),
    Case("template-out-is-file", ["template-study", "--synthetic", "--out", "@afile"], r"afile"),
    Case("template-bad-measure", ["template-study", "--synthetic", "--measure", "nomodule:f", "--out", "@o"],
         r"nomodule"),
]

ZEROSHOT = [
    Case("zeroshot-missing-run", ["zeroshot", "--run", "@norun", "--eval", "@X.npy", "--classes",
          "@classes.txt", "--templates", "audio"],
         r"norun"),
    Case("zeroshot-missing-classes", ["zeroshot", "--run", "@norun", "--eval", "@X.npy", "--classes",
          "@nocls.txt", "--templates", "audio"],
         r"norun|nocls"),
]

EMBED = [
    Case("embed-unknown-encoder", ["embed", "--encoder", "nosuch", "--input", "@labels.jsonl", "--out",
          "@o.parquet"],
         r"nosuch"),
    Case("embed-missing-input", ["embed", "--encoder", "wordllama", "--input", "@none.jsonl", "--out",
          "@o.parquet"],
         r"none\.jsonl"),
    Case("embed-unknown-dataset", ["embed", "--encoder", "wordllama", "--dataset", "mnist", "--input",
          "@imgs", "--out", "@o.parquet"],
         r"invalid choice|mnist"),
    Case("embed-jsonl-missing-text", ["embed", "--encoder", "wordllama", "--input", "@captions.jsonl",
          "--out", "@o.parquet"],
         r"line 2|row 2|text"),
    Case("embed-jsonl-missing-label", ["embed", "--encoder", "wordllama", "--input", "@labels.jsonl",
          "--out", "@o.parquet"],
         r"label"),
    Case("embed-csv-missing-cell", ["embed", "--encoder", "wordllama", "--input", "@holes.csv", "--out",
          "@o.parquet"],
         r"holes\.csv.*(line|row) 3|text"),
    Case("embed-bad-out-suffix", ["embed", "--encoder", "wordllama", "--input", "@classes.txt", "--out",
          "@o.xlsx"],
         r"xlsx|format|suffix"),
    Case("embed-out-under-file", ["embed", "--encoder", "wordllama", "--input", "@labels.jsonl", "--out",
          "@afile/o.parquet"],
         r"afile"),
    Case("embed-zero-batch", ["embed", "--encoder", "wordllama", "--input", "@labels.jsonl", "--out",
          "@o.parquet", "--batch-size", "0"],
         r"batch"),
    Case("embed-zero-chunk", ["embed", "--encoder", "wordllama", "--input", "@labels.jsonl", "--out",
          "@o.parquet", "--chunk-size", "0"],
         r"chunk"),
    Case("embed-bad-option", ["embed", "--encoder", "wordllama", "--input", "@labels.jsonl", "--out",
          "@o.parquet", "--option", "novalue"],
         r"KEY=VALUE|novalue"),
    Case("embed-all-images-unreadable", ["embed", "--encoder", "efficientnet-lite0", "--dataset",
          "image-folder", "--input", "@imgs", "--out", "@o.parquet"],
         r"broken|unreadable|failed"),
]

TRAIN = [
    Case("train-missing-audio", ["train", "--audio", "@noa.parquet", "--text", "@t.parquet", "--pairs",
          "@pairs.csv", "--out", "@run"],
         r"noa\.parquet"),
    Case("train-zero-epochs", ["train", "--audio", "@a.parquet", "--text", "@t.parquet", "--pairs",
          "@pairs.csv", "--epochs", "0", "--out", "@run"],
         r"epochs"),
    Case("train-negative-lr", ["train", "--audio", "@a.parquet", "--text", "@t.parquet", "--pairs",
          "@pairs.csv", "--lr", "-1", "--out", "@run"],
         r"lr"),
    Case("train-beta-above-one", ["train", "--audio", "@a.parquet", "--text", "@t.parquet", "--pairs",
          "@pairs.csv", "--beta", "2", "--out", "@run"],
         r"beta"),
    Case("train-out-is-file", ["train", "--audio", "@a.parquet", "--text", "@t.parquet", "--pairs",
          "@pairs.csv", "--out", "@afile"],
         r"afile"),
    Case("train-malformed-pairs", ["train", "--audio", "@a.parquet", "--text", "@t.parquet", "--pairs",
          "@pairs_bad.jsonl", "--out", "@run"],
         r"pairs_bad\.jsonl.*line 2"),
    Case("train-unknown-ids", ["train", "--audio", "@a.parquet", "--text", "@t.parquet", "--pairs",
          "@pairs_unknown.csv", "--out", "@run"],
         r"zz9|unknown|not in"),
    Case("train-bad-head", ["train", "--audio", "@a.parquet", "--text", "@t.parquet", "--pairs",
          "@pairs.csv", "--head", "transformer", "--out", "@run"],
         r"transformer"),
]

OTHER = [
    Case("demo-out-is-file", ["demo", "--out", "@afile"], r"afile"),
    Case("measures-unknown-option", ["measures", "--bogus"], r"unrecognized|bogus"),
    Case("audit-out-is-file", ["audit", "--demo", "--out", "@afile"], r"afile"),
    Case("audit-threshold-above-one", ["audit", "--demo", "--threshold", "1.5", "--out", "@o"], r"threshold"),
    Case("curate-missing-teacher", ["curate", "--teacher", "@noteacher", "--audio", "@X.npy", "--text",
                                    "@Y.npy", "--out", "@o"], r"noteacher"),
    Case("curate-bad-threshold", ["curate", "--teacher", "@noteacher", "--audio", "@X.npy", "--text",
                                  "@Y.npy", "--tau-du", "q1.5", "--out", "@o"], r"tau-du|quantile"),
    Case("curate-out-is-file", ["curate", "--teacher", "@noteacher", "--audio", "@X.npy", "--text",
                                "@Y.npy", "--out", "@afile"], r"afile"),
    Case("improve-zero-seeds", ["improve", "--seeds", "-1", "--out", "@o"], r"seeds"),
    Case("improve-out-is-file", ["improve", "--out", "@afile"], r"afile"),
    Case("encoders-bad-modality", ["encoders", "--modality", "smell"], r"invalid choice|smell"),
    Case("unknown-command", ["frobnicate"], r"invalid choice|frobnicate"),
    Case("datasets-unknown", ["datasets", "nope"], r"invalid choice|nope"),
]

CLI_CASES = COMPARE + ANALOGY + TEMPLATES + ZEROSHOT + EMBED + TRAIN + OTHER


def _train_tables(tmp: Path) -> None:
    """Small audio/text tables and pair files for the ``train`` cases."""
    from pairspace import EmbeddingTable

    rng = np.random.default_rng(1)
    ids = [f"a{i}" for i in range(12)]
    EmbeddingTable(ids, rng.normal(size=(12, 8)).astype(np.float32)).save(tmp / "a.parquet")
    EmbeddingTable([f"t{i}" for i in range(12)],
                   rng.normal(size=(12, 8)).astype(np.float32)).save(tmp / "t.parquet")
    (tmp / "pairs.csv").write_text("audio_id,text_id\n" + "".join(f"a{i},t{i}\n" for i in range(12)))
    (tmp / "pairs_unknown.csv").write_text("audio_id,text_id\na0,t0\nzz9,t1\n")


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.name for c in CLI_CASES])
def test_cli_refuses_clearly(case, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _fixtures(tmp_path)
    if case.name.startswith("train-"):
        _train_tables(tmp_path)
    before = _snapshot(tmp_path)
    try:
        rc = main(case.argv(tmp_path))
    except SystemExit as exc:  # argparse refuses at the boundary
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2, f"exit code {rc}; stderr: {err}"
    assert "Traceback" not in err
    assert re.search(case.match, err, flags=re.S | re.I), f"message does not name the problem: {err!r}"
    assert _snapshot(tmp_path) == before, "the command left new or changed files behind"


# ----------------------------------------------------------------------------------------- the API
def _api_cases() -> list[tuple[str, Callable[[Path], object], object, str]]:
    import pairspace
    from pairspace._validation import rows_per_block, unit_rows

    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 4))
    return [
        ("knn-k-zero", lambda p: pairspace.knn(X, 0), ValueError, r"k"),
        ("knn-k-n", lambda p: pairspace.knn(X, 20), ValueError, r"out of range"),
        ("knn-bad-metric", lambda p: pairspace.knn(X, 3, metric="l3"), ValueError, r"l3"),
        ("knn-3d", lambda p: pairspace.knn(X[None], 3), ValueError, r"2-D"),
        ("knn-unknown-backend", lambda p: pairspace.knn(X, 3, backend="annoy"), ValueError, r"annoy"),
        ("nngs-nan", lambda p: pairspace.nngs(np.where(X > 2, np.nan, X), X, 3), ValueError, r"NaN"),
        ("nngs-mismatch", lambda p: pairspace.nngs(X, X[:10], 3), ValueError, r"same number of rows"),
        ("nngs-float-k", lambda p: pairspace.nngs(X, X, 1.5), ValueError, r"fraction"),
        ("nngs-bool-k", lambda p: pairspace.nngs(X, X, True), ValueError, r"bool"),
        ("chance-n-small", lambda p: pairspace.nngs_chance(1, 1), ValueError, r"n"),
        ("mutual-knn-k", lambda p: pairspace.mutual_knn(X, X, 25), ValueError, r"k"),
        ("cka-mismatch", lambda p: pairspace.linear_cka(X, X[:5]), ValueError, r"rows"),
        ("rbf-cka-too-large", lambda p: pairspace.rbf_cka(np.zeros((5001, 2)), np.zeros((5001, 2))),
         ValueError, r"5000|5,000"),
        ("permutation-negative", lambda p: pairspace.permutation_test(X, X, "nngs", n_permutations=-1),
         ValueError, r"permutation"),
        ("bootstrap-negative", lambda p: pairspace.bootstrap_ci(X, X, "nngs", n_resamples=-1),
         ValueError, r"n_resamples"),
        ("unit-rows-zero", lambda p: unit_rows(np.zeros((3, 2))), ValueError, r"all-zero"),
        ("rows-per-block-zero", lambda p: rows_per_block(0, 8), ValueError, r"memory_budget"),
        ("table-missing", lambda p: pairspace.EmbeddingTable.load(p / "nope.parquet"), FileNotFoundError,
         r"nope\.parquet"),
        ("open-matrix-missing", lambda p: pairspace.open_matrix(p / "nope.npy"),
         (FileNotFoundError, ValueError), r"nope\.npy"),
        ("load-pair-missing", lambda p: pairspace.load_pair(p / "a.npy", p / "b.npy"), FileNotFoundError,
         r"a\.npy"),
    ]


API_CASES = _api_cases()


@pytest.mark.parametrize("name,call,exc,match", API_CASES, ids=[c[0] for c in API_CASES])
def test_api_refuses_clearly(name, call, exc, match, tmp_path):
    with pytest.raises(exc, match=match):
        call(tmp_path)


def test_word2vec_header_checked_against_file_size(tmp_path):
    """A 16-byte file claiming 999,999,999 x 99,999 floats is refused before any allocation."""
    from pairspace.analogy import load_vectors

    path = tmp_path / "huge.bin"
    path.write_bytes(b"999999999 99999\n" + struct.pack("<f", 1.0))
    with pytest.raises(ValueError, match=r"huge\.bin"):
        load_vectors(path)


def test_malicious_checkpoint_is_refused_as_unsafe(tmp_path):
    """A pickled .pth that would run code is refused with a message saying so."""
    import pickle

    class Evil:
        def __reduce__(self):
            return (json.loads, ('"pwned"',))

    path = tmp_path / "weights.pth"
    path.write_bytes(pickle.dumps({"state_dict": Evil()}, protocol=2))  # torch.save's protocol
    import pairspace

    with pytest.raises(ValueError, match=r"unsafe|refused"):
        pairspace.encoders.get("efficientnet-lite0", weights=str(path))
