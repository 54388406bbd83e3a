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


# =============================================================================== issue 23 catalogue
# Each case below was written before its fix; the class it stands for is in the comment above it.
# Command-line cases assert exit 2, a message naming the problem, no traceback and a byte-identical
# working folder; API cases assert the refusal or the correct number against a float64 reference.


def _cli(tmp: Path, argv: list[str], capsys) -> tuple[int, str]:
    """Run ``pairspace argv`` in process from ``tmp``; the exit code and stderr."""
    try:
        rc = main(argv)
    except SystemExit as exc:
        rc = exc.code
    return rc, capsys.readouterr().err


def _refused(tmp: Path, argv: list[str], match: str, capsys, root: Path | None = None) -> str:
    """Assert exit 2, ``match`` in stderr, no traceback, and ``root`` (default ``tmp``) unchanged."""
    root = root or tmp
    before = _snapshot(root)
    rc, err = _cli(tmp, argv, capsys)
    assert rc == 2, f"exit code {rc}; stderr: {err}"
    assert "Traceback" not in err
    assert re.search(match, err, flags=re.S | re.I), f"message does not name the problem: {err!r}"
    assert _snapshot(root) == before, "the command left new or changed files behind"
    return err


def _nngs64(X: np.ndarray, Y: np.ndarray, k: int = 5) -> float:
    import pairspace

    return float(pairspace.nngs(np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64), k))


def _xy(n: int = 30, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    return X, X @ rng.normal(size=(5, 4)) + 0.5 * rng.normal(size=(n, 4))


# ------------------------------------------------------- API: frames, dtypes (silent wrong numbers)
def _frames_case(kind: str):  # noqa: C901 - one small builder per case
    pd = pytest.importorskip("pandas")
    import pairspace

    X, Y = _xy()
    n = X.shape[0]
    ids = [f"item{i:02d}" for i in range(n)]
    ref = _nngs64(X, Y)
    perm = np.random.default_rng(5).permutation(n)
    if kind == "index-shuffled":
        fx = pd.DataFrame(X, index=ids)
        fy = pd.DataFrame(Y[perm], index=[ids[i] for i in perm])
        return lambda: pairspace.nngs(fx, fy, 5), ref
    if kind == "id-column-shuffled":
        fx = pd.DataFrame(X).assign(id=ids)
        fy = pd.DataFrame(Y[perm]).assign(id=[ids[i] for i in perm])
        return lambda: pairspace.nngs(fx, fy, 5), ref
    if kind == "numeric-string-id":
        fx = pd.DataFrame(X, columns=[f"f{j}" for j in range(5)])
        fx.insert(0, "id", [str(1000 + i) for i in range(n)])
        fy = pd.DataFrame(Y, columns=[f"g{j}" for j in range(4)])
        fy.insert(0, "id", [str(1000 + i) for i in range(n)])
        return lambda: pairspace.nngs(fx, fy, 5), ref
    if kind == "first-string-column":
        fx = pd.DataFrame(X).assign(name=ids)[["name", 0, 1, 2, 3, 4]]
        fy = pd.DataFrame(Y[perm]).assign(name=[ids[i] for i in perm])
        return lambda: pairspace.nngs(fx, fy, 5), ref
    if kind == "cka-index-shuffled":
        fx = pd.DataFrame(X, index=ids)
        fy = pd.DataFrame(Y[perm], index=[ids[i] for i in perm])
        return lambda: pairspace.linear_cka(fx, fy), float(pairspace.linear_cka(X, Y))
    if kind == "frame-and-array-range-index":
        return lambda: pairspace.nngs(pd.DataFrame(X), Y, 5), ref
    raise AssertionError(kind)


FRAME_NUMBER_CASES = ["index-shuffled", "id-column-shuffled", "numeric-string-id",
                      "first-string-column", "cka-index-shuffled", "frame-and-array-range-index"]


@pytest.mark.parametrize("kind", FRAME_NUMBER_CASES)
def test_api_frames_aligned_like_the_cli(kind):
    """DataFrames are aligned by their index or id column (the CLI's rule), never by position."""
    call, ref = _frames_case(kind)
    assert call() == pytest.approx(ref, abs=1e-12)


def _frame_refusals():
    pd = pytest.importorskip("pandas")
    import pairspace

    X, Y = _xy()
    n = X.shape[0]
    ids = [f"item{i:02d}" for i in range(n)]
    other = [f"other{i:02d}" for i in range(n)]
    dup = ids[:-1] + ids[:1]
    return {
        "disjoint-index": (lambda: pairspace.nngs(pd.DataFrame(X, index=ids),
                                                  pd.DataFrame(Y, index=other), 5), r"only in"),
        "duplicated-index": (lambda: pairspace.nngs(pd.DataFrame(X, index=dup),
                                                    pd.DataFrame(Y, index=dup), 5), r"duplicated"),
        "labeled-frame-vs-array": (lambda: pairspace.nngs(pd.DataFrame(X, index=ids), Y, 5),
                                   r"index|ids"),
        "text-feature-column": (lambda: pairspace.nngs(
            pd.DataFrame(X).assign(id=ids, note=["x"] * n), pd.DataFrame(Y).assign(id=ids), 5),
            r"note"),
    }


@pytest.mark.parametrize("kind", ["disjoint-index", "duplicated-index", "labeled-frame-vs-array",
                                  "text-feature-column"])
def test_api_frames_refused_with_a_reason(kind):
    call, match = _frame_refusals()[kind]
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_api_half_precision_tensors_are_widened(dtype):
    """bfloat16/float16 tensors (usual model exports) are computed in float32 or wider."""
    torch = pytest.importorskip("torch")
    import pairspace

    X, Y = _xy()
    tx = torch.tensor(X, dtype=getattr(torch, dtype))
    ty = torch.tensor(Y, dtype=getattr(torch, dtype))
    ref = _nngs64(tx.float().numpy(), ty.float().numpy())
    assert pairspace.nngs(tx, ty, 5) == pytest.approx(ref, abs=1e-12)


def test_api_half_precision_knn_matches_float32():
    torch = pytest.importorskip("torch")
    import pairspace

    X, _ = _xy()
    t = torch.tensor(X, dtype=torch.bfloat16)
    got = pairspace.knn(t, 4).indices if hasattr(pairspace.knn(t, 4), "indices") else pairspace.knn(t, 4)[0]
    ref = pairspace.knn(t.float().numpy().astype(np.float64), 4)
    ref = ref.indices if hasattr(ref, "indices") else ref[0]
    assert np.array_equal(np.asarray(got), np.asarray(ref))


def _complex_calls():
    import pairspace

    X, Y = _xy()
    C = X + 1j * np.ones_like(X)
    return {
        "numpy-nngs": lambda: pairspace.nngs(C, Y, 5),
        "numpy-zero-imag": lambda: pairspace.nngs(X.astype(np.complex128), Y, 5),
        "numpy-cka": lambda: pairspace.linear_cka(Y, C),
        "numpy-knn": lambda: pairspace.knn(C, 3),
        "torch": lambda: pairspace.nngs(__import__("torch").tensor(C), Y, 5),
    }


@pytest.mark.parametrize("kind", ["numpy-nngs", "numpy-zero-imag", "numpy-cka", "numpy-knn", "torch"])
def test_api_complex_arrays_refused(kind):
    """The imaginary part is never dropped silently."""
    if kind == "torch":
        pytest.importorskip("torch")
    with pytest.raises(ValueError, match=r"complex"):
        _complex_calls()[kind]()


def test_unit_rows_tiny_rows_are_not_zero():
    """Rows scaled by 1e-200 have a direction: they are normalized, not called zero vectors."""
    from pairspace._validation import unit_rows

    X, _ = _xy()
    got = unit_rows(X * 1e-200)
    ref = X / np.linalg.norm(X, axis=1, keepdims=True)
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_cosine_search_on_tiny_rows_is_not_called_zero():
    """Rows scaled by 1e-200 are not "zero vectors": the message says their norm underflows."""
    import pairspace

    X, Y = _xy()
    with pytest.raises(ValueError, match=r"underflow") as info:
        pairspace.nngs(X * 1e-200, Y, 5, metric="cosine")
    assert "zero vector" not in str(info.value)


def _gram_cka(X: np.ndarray, Y: np.ndarray, debiased: bool) -> float:
    """Linear CKA from the two n x n Gram matrices in float64 (the textbook definition)."""
    n = X.shape[0]
    K, L = X @ X.T, Y @ Y.T
    if not debiased:
        H = np.eye(n) - 1.0 / n
        Kc, Lc = H @ K @ H, H @ L @ H
        return float(np.sum(Kc * Lc) / (np.linalg.norm(Kc) * np.linalg.norm(Lc)))

    def hsic1(K: np.ndarray, L: np.ndarray) -> float:
        K, L = K - np.diag(np.diag(K)), L - np.diag(np.diag(L))
        one = np.ones(n)
        return float((np.trace(K @ L) + (one @ K @ one) * (one @ L @ one) / ((n - 1) * (n - 2))
                      - 2.0 / (n - 2) * (one @ K @ L @ one)) / (n * (n - 3)))

    return hsic1(K, L) / np.sqrt(hsic1(K, K) * hsic1(L, L))


@pytest.mark.parametrize("debiased", [False, True])
def test_linear_cka_wide_inputs_use_the_gram_form(debiased):
    """d = 8,000 >> n = 10: the d x d form needs 0.5 GiB per matrix (298 GiB at d = 200,000); the
    n x n Gram form needs a few KiB beyond the inputs."""
    import tracemalloc

    import pairspace

    rng = np.random.default_rng(4)
    X = rng.normal(size=(10, 8000)).astype(np.float32)
    Y = (X[:, :300] @ rng.normal(size=(300, 3000)).astype(np.float32) / 20
         + rng.normal(size=(10, 3000)).astype(np.float32))
    ref = _gram_cka(X.astype(np.float64), Y.astype(np.float64), debiased)
    tracemalloc.start()
    got = pairspace.linear_cka(X, Y, debiased=debiased)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert got == pytest.approx(ref, rel=1e-9, abs=1e-12)
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MiB"


# ------------------------------------------------------ readers x BOM / encoding / null / dup / huge
def _readers(tmp: Path):  # noqa: C901 - one small builder per case
    from pairspace.data.io import load_pair
    from pairspace.data.manifests import read_manifest
    from pairspace.data.pairs import load_pairs
    from pairspace.data.templates import load_class_names, load_templates

    big = "x" * (200 * 1024)

    def w(name: str, data: str | bytes, encoding: str = "utf-8") -> Path:
        p = tmp / name
        p.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
        return p

    return {
        # manifests
        "manifest-csv-latin1": (lambda: read_manifest(w("m.csv", "id,text\nc1,café\n", "latin-1")),
                                r"m\.csv.*UTF-8"),
        "manifest-csv-utf16": (lambda: read_manifest(w("m.csv", "id,text\nc1,a dog\n", "utf-16")),
                               r"m\.csv.*UTF-16.*UTF-8|m\.csv.*UTF-8"),
        "manifest-jsonl-latin1": (lambda: read_manifest(w("m.jsonl", '{"id": "c1", "text": "café"}\n',
                                                          "latin-1")), r"m\.jsonl.*UTF-8"),
        "manifest-csv-huge-cell": (lambda: read_manifest(w("m.csv", f"id,text\nc1,{big}\n")),
                                   r"m\.csv(:| line )2.*(large|KiB|limit)"),
        "manifest-jsonl-text-list": (lambda: read_manifest(w("m.jsonl", '{"id": "c1", "text": "a"}\n'
                                                             '{"id": "c2", "text": ["a", "dog"]}\n')),
                                     r"m\.jsonl.*2.*text"),
        "manifest-jsonl-text-object": (lambda: read_manifest(w("m.jsonl",
                                                               '{"id": "c1", "text": {"a": 1}}\n')),
                                       r"m\.jsonl.*1.*text"),
        "manifest-jsonl-id-float": (lambda: read_manifest(w("m.jsonl", '{"id": 1.0, "text": "a"}\n')),
                                    r"m\.jsonl.*1.*id"),
        "manifest-jsonl-label-null": (lambda: read_manifest(w("m.jsonl", '{"id": "c1", "text": "a", '
                                                              '"label": null}\n')),
                                      r"m\.jsonl.*1.*label"),
        "manifest-reserved-column": (lambda: read_manifest(w("m.csv", "id,text,vector\nc1,a,v\n")),
                                     r"vector.*reserved|reserved.*vector"),
        # pairs
        "pairs-csv-huge-cell": (lambda: load_pairs(w("p.csv", f"audio_id,text_id\na0,{big}\n")),
                                r"p\.csv(:| line )2.*(large|KiB|limit)"),
        "pairs-csv-utf16": (lambda: load_pairs(w("p.csv", "audio_id,text_id\na0,t0\n", "utf-16")),
                            r"p\.csv.*UTF-8"),
        "pairs-csv-short-row": (lambda: load_pairs(w("p.csv", "audio_id,text_id\na0,t0\na1\n")),
                                r"p\.csv(:| line )3"),
        "pairs-csv-dup-header": (lambda: load_pairs(w("p.csv", "audio_id,audio_id,text_id\na,b,t\n")),
                                 r"p\.csv.*audio_id"),
        # class names and templates
        "classes-latin1": (lambda: load_class_names(w("c.txt", "café\nthé\n", "latin-1")),
                           r"c\.txt.*UTF-8"),
        "classes-utf16": (lambda: load_class_names(w("c.txt", "dog\ncat\n", "utf-16")),
                          r"c\.txt.*UTF-16|c\.txt.*UTF-8"),
        "templates-latin1": (lambda: load_templates(w("t.txt", "une photo d'un {} é\n", "latin-1")),
                             r"t\.txt.*UTF-8"),
        "templates-escaped-braces": (lambda: load_templates(w("t.txt", "a {{}} sound\n")),
                                     r"a \{\{\}\} sound.*placeholder"),
        "templates-two-placeholders": (lambda: load_templates(w("t.txt", "a {} of a {}\n")),
                                       r"a \{\} of a \{\}.*placeholder"),
        "templates-named-field": (lambda: load_templates(w("t.txt", "a {name} sound\n")),
                                  r"\{name\}"),
        "templates-stray-brace": (lambda: load_templates(w("t.txt", "a {} sound }\n")),
                                  r"brace|\}"),
        "templates-json-text-not-string": (lambda: load_templates(w("t.json",
                                                                    '{"templates": [{"text": 5}]}')),
                                           r"t\.json"),
        # matrices
        "matrix-csv-dup-header": (lambda: load_pair(w("a.csv", "id,f,f\na,1,2\nb,3,4\nc,5,6\n"),
                                                    w("b.csv", "id,g,h\na,1,2\nb,3,4\nc,5,6\n")),
                                  r"a\.csv.*f"),
        "matrix-csv-zero-padded-ids": (lambda: load_pair(
            w("a.csv", "id,f0\n" + "".join(f"{i:03d},{i}\n" for i in range(5))),
            w("b.csv", "id,f0\n" + "".join(f"{i},{i}\n" for i in range(5)))), r"only in"),
        "matrix-npz-0d-ids": (lambda: load_pair(_npz(tmp / "a.npz", np.ones((5, 2)), np.asarray("abcde")),
                                                _npz(tmp / "b.npz", np.ones((5, 2)), np.asarray("abcde"))),
                              r"a\.npz.*ids"),
        "matrix-npz-2d-ids": (lambda: load_pair(_npz(tmp / "a.npz", np.ones((4, 2)),
                                                     np.asarray([["a", "b"], ["c", "d"]])),
                                                _npz(tmp / "b.npz", np.ones((4, 2)), None)),
                              r"a\.npz.*ids"),
        "matrix-parquet-null-id": (lambda: load_pair(_parquet(tmp / "a.parquet", ["a", None, "c"]),
                                                     _parquet(tmp / "b.parquet", ["a", "b", "c"])),
                                   r"a\.parquet.*(missing|null)"),
        "matrix-csv-latin1-ids": (lambda: load_pair(w("a.csv", "id,f0\ncafé,1\nb,2\nc,3\n", "latin-1"),
                                                    w("b.csv", "id,f0\ncafé,1\nb,2\nc,3\n")),
                                  r"a\.csv.*UTF-8"),
    }


def _npz(path: Path, vectors: np.ndarray, ids) -> Path:  # noqa: ANN001
    arrays = {"vectors": vectors} | ({} if ids is None else {"ids": ids})
    np.savez(path, **arrays)
    return path


def _parquet(path: Path, ids: list, labels: list | None = None, meta: bytes | None = None) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = len(ids)
    flat = pa.array(np.arange(n * 3, dtype=np.float32) % 7 + np.repeat(np.arange(n), 3), pa.float32())
    cols = {"id": pa.array(ids, pa.string()), "vector": pa.FixedSizeListArray.from_arrays(flat, 3)}
    if labels is not None:
        cols["label"] = pa.array(labels, pa.string())
    t = pa.table(cols)
    if meta is not None:
        t = t.replace_schema_metadata({b"pairspace": meta})
    pq.write_table(t, path)
    return path


READER_CASES = [
    "manifest-csv-latin1", "manifest-csv-utf16", "manifest-jsonl-latin1", "manifest-csv-huge-cell",
    "manifest-jsonl-text-list", "manifest-jsonl-text-object", "manifest-jsonl-id-float",
    "manifest-jsonl-label-null", "manifest-reserved-column", "pairs-csv-huge-cell", "pairs-csv-utf16",
    "pairs-csv-short-row", "pairs-csv-dup-header", "classes-latin1", "classes-utf16",
    "templates-latin1", "templates-escaped-braces", "templates-two-placeholders",
    "templates-named-field", "templates-stray-brace", "templates-json-text-not-string",
    "matrix-csv-dup-header", "matrix-csv-zero-padded-ids", "matrix-npz-0d-ids", "matrix-npz-2d-ids",
    "matrix-parquet-null-id", "matrix-csv-latin1-ids",
]


@pytest.mark.parametrize("kind", READER_CASES)
def test_readers_refuse_with_file_line_and_field(kind, tmp_path):
    call, match = _readers(tmp_path)[kind]
    with pytest.raises(ValueError, match=match):
        call()


def test_manifest_csv_with_bom_reads_the_ids(tmp_path):
    """A spreadsheet's UTF-8 BOM is not part of the first column's name."""
    from pairspace.data.manifests import read_manifest

    p = tmp_path / "m.csv"
    p.write_bytes(b"\xef\xbb\xbfid,text,label\nc1,a dog,dog\nc2,a cat,cat\n")
    m = read_manifest(p)
    assert m.ids == ["c1", "c2"] and m.labels == ["dog", "cat"] and m.columns == {}


def test_manifest_jsonl_with_bom_reads(tmp_path):
    from pairspace.data.manifests import read_manifest

    p = tmp_path / "m.jsonl"
    p.write_bytes(b'\xef\xbb\xbf{"id": "c1", "text": "a dog"}\n{"id": "c2", "text": "a cat"}\n')
    assert read_manifest(p).ids == ["c1", "c2"]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_pairs_with_bom_read(tmp_path, suffix):
    from pairspace.data.pairs import load_pairs

    p = tmp_path / f"p{suffix}"
    body = ("audio_id,text_id\na0,t0\na1,t1\n" if suffix == ".csv"
            else '{"audio_id": "a0", "text_id": "t0"}\n{"audio_id": "a1", "text_id": "t1"}\n')
    p.write_bytes(b"\xef\xbb\xbf" + body.encode())
    assert load_pairs(p) == [("a0", "t0"), ("a1", "t1")]


def test_class_names_with_bom_read(tmp_path):
    from pairspace.data.templates import load_class_names

    p = tmp_path / "c.txt"
    p.write_bytes(b"\xef\xbb\xbfdog\ncat\n")
    assert list(load_class_names(p)) == ["dog", "cat"]


def test_matrix_csv_with_bom_and_zero_padded_ids(tmp_path):
    from pairspace.data.io import load_space

    p = tmp_path / "a.csv"
    p.write_bytes(b"\xef\xbb\xbfid,f0,f1\n007,1,2\n010,3,4\n")
    s = load_space(p)
    assert s.ids == ["007", "010"]
    np.testing.assert_array_equal(s.vectors, [[1, 2], [3, 4]])


def test_parquet_string_id_none_is_a_real_id(tmp_path):
    """The string "None" is an id like any other; only a null is missing."""
    from pairspace.data.io import load_space

    s = load_space(_parquet(tmp_path / "a.parquet", ["None", "b", "c"]))
    assert s.ids == ["None", "b", "c"]


def _table_cases(tmp: Path):
    from pairspace import EmbeddingTable

    return {
        "table-null-id": (lambda: EmbeddingTable.load(_parquet(tmp / "t.parquet", ["a", None, "c"])),
                          r"t\.parquet.*id.*(missing|null)"),
        "table-null-label": (lambda: EmbeddingTable.load(_parquet(tmp / "t.parquet", ["a", "b", "c"],
                                                                  ["x", None, "y"])),
                             r"t\.parquet.*label.*(missing|null)"),
        "table-metadata-not-object": (lambda: EmbeddingTable.load(
            _parquet(tmp / "t.parquet", ["a", "b", "c"], meta=b"[1, 2]")), r"t\.parquet.*metadata"),
        "table-metadata-not-json": (lambda: EmbeddingTable.load(
            _parquet(tmp / "t.parquet", ["a", "b", "c"], meta=b"{oops")), r"t\.parquet.*metadata"),
        "table-api-null-label": (lambda: EmbeddingTable(["a", "b"], np.ones((2, 2)), ["x", None]),
                                 r"label.*(missing|null)"),
        "table-api-complex": (lambda: EmbeddingTable(["a", "b"], np.ones((2, 2)) * 1j), r"complex"),
    }


@pytest.mark.parametrize("kind", ["table-null-id", "table-null-label", "table-metadata-not-object",
                                  "table-metadata-not-json", "table-api-null-label", "table-api-complex"])
def test_tables_refuse_nulls_and_bad_metadata(kind, tmp_path):
    call, match = _table_cases(tmp_path)[kind]
    with pytest.raises(ValueError, match=match):
        call()


def test_analogy_vectors_with_a_duplicated_word_are_refused(tmp_path):
    from pairspace.analogy import load_vectors

    p = tmp_path / "v.txt"
    p.write_text("king 1 2\nqueen 3 4\nking 5 6\n")
    with pytest.raises(ValueError, match=r"v\.txt.*king"):
        load_vectors(p)


def test_audit_label_file_with_a_short_row(tmp_path):
    from pairspace.studies.audit.overlap import load_label_file

    p = tmp_path / "labels.csv"
    p.write_text("index,mid,display_name\n0,/m/a,Dog\n1,/m/b\n")
    with pytest.raises(ValueError, match=r"labels\.csv(:| line )3"):
        load_label_file(p)


# ------------------------------------------------------------- hand-editable files x type / shape
def _fake_run(tmp: Path, edit: str) -> Path:
    """A trained run folder (tiny linear heads), then one field or tensor edited by hand."""
    torch = pytest.importorskip("torch")
    from pairspace.align.checkpoints import load_tensors, save_model
    from pairspace.align.config import TrainConfig
    from pairspace.align.model import AlignmentModel

    run = tmp / "run"
    run.mkdir()
    cfg = TrainConfig(head="linear", dim=4, epochs=1, batch_size=2)
    model = AlignmentModel(6, 5, "linear", 4, 0.0)
    save_model(run / "model.safetensors", model, cfg, {"text_encoder": "wordllama"})
    tensors, meta = load_tensors(run / "model.safetensors")
    if edit == "shape":
        k = next(k for k, v in tensors.items() if v.ndim == 2)
        tensors[k] = torch.zeros(tensors[k].shape[0] + 1, tensors[k].shape[1])
    elif edit == "dim-type":
        meta["config"]["dim"] = "four"
    elif edit == "d-a":
        meta["d_a"] = 7
    elif edit == "config-not-object":
        meta["config"] = [1, 2]
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in tensors.items()}, str(run / "model.safetensors"),
              metadata={"pairspace": json.dumps(meta)})
    return run


@pytest.mark.parametrize("edit", ["shape", "dim-type", "d-a", "config-not-object"])
def test_edited_run_folder_is_refused_naming_the_file(edit, tmp_path):
    from pairspace.align.trainer import load_model

    run = _fake_run(tmp_path, edit)
    with pytest.raises(ValueError, match=r"model\.safetensors"):
        load_model(run)


def test_template_study_measure_with_wrong_signature(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mymeasure.py").write_text("def one_arg(X):\n    return 0.0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _refused(tmp_path, ["template-study", "--synthetic", "--measure", "mymeasure:one_arg"],
             r"one_arg.*(X, Y)|signature|two", capsys)


def test_template_study_nan_text_embeddings_named(tmp_path, capsys, monkeypatch):
    from pairspace import EmbeddingTable

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    EmbeddingTable([f"m{i}" for i in range(8)], rng.normal(size=(8, 4)),
                   ["dog", "cat"] * 4).save(tmp_path / "media.parquet")
    (tmp_path / "t.txt").write_text("a {}\nthe {}\n")
    E = rng.normal(size=(2, 2, 4))
    E[1, 0, 2] = np.nan
    np.save(tmp_path / "E.npy", E)
    _refused(tmp_path, ["template-study", "--media", "media.parquet", "--templates", "./t.txt",
                        "--text-embeddings", "E.npy", "--k", "2"], r"E\.npy.*NaN", capsys)


def test_improve_split_with_wrong_types(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _train_tables(tmp_path)
    (tmp_path / "split.json").write_text(json.dumps({
        "teacher_pairs": 5, "audio_pool": ["a1"], "text_pool": ["t1"], "owners": ["a1"],
        "test_audio": ["a2"], "test_labels": ["x"], "target_classes": ["x"]}))
    _refused(tmp_path, ["improve", "--audio", "a.parquet", "--text", "t.parquet", "--split",
                        "split.json", "--text-encoder", "wordllama", "--out", "o"],
             r"split\.json.*teacher_pairs", capsys)


@pytest.mark.parametrize("argv,match", [
    (["--seeds", "0", "0"], r"seeds.*0"),
    (["--methods", "du", "du"], r"methods.*du"),
    (["--losses", "soft", "soft"], r"losses.*soft"),
])
def test_improve_refuses_repeated_list_values(argv, match, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _refused(tmp_path, ["improve", *argv, "--out", "o"], match, capsys)


@pytest.mark.parametrize("plan,match", [
    ({"methods": ["du", "du"]}, r"du given more than once"),
    ({"seeds": [1, 1]}, r"\[1\] given more than once"),
    ({"seeds": []}, r"seeds is empty"),
    ({"losses": ["infonce", "bogus"]}, r"unknown loss.*bogus"),
])
def test_api_improve_plan_refused_before_the_teacher_trains(plan, match, tmp_path, monkeypatch):
    """The Python API refuses a plan that cannot run before training anything."""
    import pairspace.align.trainer as trainer
    from pairspace.studies.improve import improve_study

    def no_training(*a, **k):
        raise AssertionError("a model was trained before the plan was checked")

    monkeypatch.setattr(trainer, "train", no_training)
    with pytest.raises(ValueError, match=match):
        improve_study(None, None, None, None, tmp_path / "o", config=None, **plan)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------ writers x out-equals-input / concurrent / full disk
def _cmp_inputs(tmp: Path) -> None:
    rng = np.random.default_rng(7)
    (tmp / "cmpIn").mkdir()
    for name, d in (("cmpIn/results.csv", 3), ("y.csv", 2)):
        (tmp / name).write_text("id," + ",".join(f"f{j}" for j in range(d)) + "\n" + "".join(
            f"i{i}," + ",".join(f"{v:.4f}" for v in rng.normal(size=d)) + "\n" for i in range(20)))


def test_compare_out_folder_holding_an_input(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _cmp_inputs(tmp_path)
    _refused(tmp_path, ["compare", "cmpIn/results.csv", "y.csv", "--k", "3", "--out", "cmpIn"],
             r"cmpIn.*input|input.*cmpIn", capsys)


def test_compare_out_folder_with_a_hard_link_to_an_input(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _cmp_inputs(tmp_path)
    (tmp_path / "rep").mkdir()
    import os

    os.link(tmp_path / "y.csv", tmp_path / "rep" / "results.csv")
    _refused(tmp_path, ["compare", "cmpIn/results.csv", "y.csv", "--k", "3", "--out", "rep"],
             r"y\.csv|hard link|same file", capsys)


def test_zeroshot_out_onto_the_trained_model(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "R").mkdir()
    (tmp_path / "R" / "model.safetensors").write_bytes(b"weights")
    _refused(tmp_path, ["zeroshot", "--run", "R", "--eval", "X.npy", "--classes", "./c.txt",
                        "--templates", "audio", "--out", "R/model.safetensors"],
             r"model\.safetensors", capsys)


def test_zeroshot_out_onto_the_eval_table(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "R").mkdir()
    (tmp_path / "ev.json").write_text("{}")
    _refused(tmp_path, ["zeroshot", "--run", "R", "--eval", "ev.json", "--classes", "./c.txt",
                        "--templates", "audio", "--out", "ev.json"], r"ev\.json", capsys)


def test_train_out_is_the_teacher_run(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _train_tables(tmp_path)
    (tmp_path / "T").mkdir()
    (tmp_path / "T" / "model.safetensors").write_bytes(b"weights")
    _refused(tmp_path, ["train", "--audio", "a.parquet", "--text", "t.parquet", "--pairs", "pairs.csv",
                        "--loss", "soft", "--teacher", "T", "--out", "T"], r"\bT\b.*input|teacher", capsys)


def test_embed_out_is_the_input(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _train_tables(tmp_path)
    _refused(tmp_path, ["embed", "--encoder", "wordllama", "--input", "a.parquet", "--out", "a.parquet"],
             r"a\.parquet.*input|input.*a\.parquet", capsys)


def test_embed_out_is_a_hard_link_of_the_input(tmp_path, capsys, monkeypatch):
    import os

    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.csv").write_text("id,text\nc1,a dog\n")
    os.link(tmp_path / "m.csv", tmp_path / "link.parquet")
    _refused(tmp_path, ["embed", "--encoder", "wordllama", "--input", "m.csv", "--out", "link.parquet"],
             r"link\.parquet", capsys)


def test_embed_reserved_column_refused_before_any_embedding(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.csv").write_text("id,text,vector\nc1,a dog,1\nc2,a cat,2\n")
    _refused(tmp_path, ["embed", "--encoder", "wordllama", "--input", "m.csv", "--out", "o.parquet"],
             r"vector", capsys)


def test_curate_out_holds_an_input(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "o").mkdir()
    np.save(tmp_path / "o" / "X.npy", np.ones((4, 2)))
    _refused(tmp_path, ["curate", "--teacher", "noteacher", "--audio", "o/X.npy", "--text", "o/X.npy",
                        "--out", "o"], r"X\.npy", capsys)


LOCKED = [
    ("compare", ["compare", "X.npy", "Y.npy", "--k", "3", "--out", "o"]),
    ("train", ["train", "--audio", "a.parquet", "--text", "t.parquet", "--pairs", "pairs.csv",
               "--out", "o"]),
    ("embed", ["embed", "--encoder", "wordllama", "--input", "classes.txt", "--out", "o"]),
    ("curate", ["curate", "--teacher", "noteacher", "--audio", "X.npy", "--text", "Y.npy", "--out", "o"]),
    ("improve", ["improve", "--out", "o"]),
    ("audit", ["audit", "--demo", "--out", "o"]),
]


@pytest.mark.parametrize("name,argv", LOCKED, ids=[c[0] for c in LOCKED])
def test_second_writer_on_a_locked_folder_is_refused(name, argv, tmp_path, capsys, monkeypatch):
    """An exclusive lock (filelock, valid on shared filesystems) guards every run or report folder."""
    from filelock import FileLock

    from pairspace._outputs import lock_path

    monkeypatch.chdir(tmp_path)
    _fixtures(tmp_path)
    _train_tables(tmp_path)
    if name == "embed":
        argv = [*argv[:-1], "o.parquet"]
    lock = FileLock(str(lock_path(tmp_path / argv[-1])))
    with lock:
        _refused(tmp_path, argv, r"another|in use|locked", capsys)


def test_api_train_on_a_locked_run_folder(tmp_path):
    pytest.importorskip("torch")
    from filelock import FileLock

    from pairspace import EmbeddingTable
    from pairspace._outputs import lock_path
    from pairspace.align.config import TrainConfig
    from pairspace.align.trainer import train

    _train_tables(tmp_path)
    a, t = EmbeddingTable.load(tmp_path / "a.parquet"), EmbeddingTable.load(tmp_path / "t.parquet")
    with FileLock(str(lock_path(tmp_path / "run"))), pytest.raises(ValueError, match=r"another|in use"):
        train(a, t, tmp_path / "pairs.csv", tmp_path / "run", TrainConfig(epochs=1, batch_size=4))
    assert not (tmp_path / "run").exists()


def _limited(tmp: Path, argv: list[str], fsize: int):
    """Run the CLI in a child process whose files may not grow beyond ``fsize`` bytes (a full disk)."""
    import os
    import subprocess
    import sys

    import pairspace

    code = ("import resource, signal, sys\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({fsize}, {fsize}))\n"
            "from pairspace.cli import main\n"
            "sys.exit(main(sys.argv[1:]))\n")
    env = {**os.environ, "PYTHONPATH": str(Path(pairspace.__file__).parents[1]),
           "PYTHONDONTWRITEBYTECODE": "1", "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-c", code, *argv], cwd=tmp, env=env, capture_output=True,
                          text=True, timeout=600)


def test_full_disk_keeps_the_previous_report(tmp_path, capsys, monkeypatch):
    """A re-run that cannot finish writing leaves the previous report folder byte-identical."""
    monkeypatch.chdir(tmp_path)
    _fixtures(tmp_path)
    rc, err = _cli(tmp_path, ["compare", "X.npy", "Y.npy", "--k", "3", "--out", "rep"],
                   capsys)
    assert rc == 0, err
    rng = np.random.default_rng(9)
    np.save(tmp_path / "Z.npy", rng.normal(size=(40, 6)))
    before = _snapshot(tmp_path)
    proc = _limited(tmp_path, ["compare", "X.npy", "Z.npy", "--k", "3", "--out", "rep"], 12_000)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert re.search(r"rep|\.png|\.html|\.json", proc.stderr), proc.stderr
    after = _snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k != "Z.npy"} == {
        k: v for k, v in before.items() if k != "Z.npy"}, "the previous report changed"


def test_full_disk_train_leaves_status_failed(tmp_path):
    pytest.importorskip("torch")
    from pairspace import EmbeddingTable

    rng = np.random.default_rng(1)
    EmbeddingTable([f"a{i}" for i in range(12)], rng.normal(size=(12, 64))).save(tmp_path / "a.parquet")
    EmbeddingTable([f"t{i}" for i in range(12)], rng.normal(size=(12, 64))).save(tmp_path / "t.parquet")
    (tmp_path / "pairs.csv").write_text("audio_id,text_id\n" + "".join(f"a{i},t{i}\n" for i in range(12)))
    proc = _limited(tmp_path, ["train", "--audio", "a.parquet", "--text", "t.parquet", "--pairs",
                               "pairs.csv", "--dim", "256", "--epochs", "2", "--selection", "last",
                               "--out", "run"], 60_000)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert re.search(r"run/\S*safetensors|run", proc.stderr), proc.stderr
    assert json.loads((tmp_path / "run" / "config.json").read_text())["status"] == "failed"


def test_report_write_error_names_the_file(tmp_path, monkeypatch):
    """An OSError while writing (here a full disk) says which file it was writing."""
    import errno
    import os

    from pairspace import _atomic

    def full(src, dst):  # noqa: ANN001, ARG001
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(_atomic.os, "replace", full)
    with pytest.raises(OSError, match=r"out\.json") as info:
        _atomic.write_json(tmp_path / "out.json", {"a": 1})
    assert info.value.errno == errno.ENOSPC
    assert list(tmp_path.iterdir()) == []


def test_full_disk_keeps_the_previous_template_report(tmp_path, capsys, monkeypatch):
    """template-study, a second staged writer: a re-run that runs out of space changes nothing."""
    monkeypatch.chdir(tmp_path)
    rc, err = _cli(tmp_path, ["template-study", "--synthetic", "--out", "rep", "-q"], capsys)
    assert rc == 0, err
    before = _snapshot(tmp_path)
    proc = _limited(tmp_path, ["template-study", "--synthetic", "--seed", "1", "--out", "rep", "-q"],
                    70_000)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert re.search(r"rep/\S+\.(png|json|csv|md).*left as it was", proc.stderr), proc.stderr
    assert _snapshot(tmp_path) == before, "the previous report changed"


def _enospc(path: Path) -> None:
    import errno
    import os

    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


@pytest.mark.parametrize("existing", [True, False])
def test_staged_report_is_all_or_nothing(existing, tmp_path):
    """write_staged: a writer that fails half-way leaves ``out`` as it was (or absent), names the
    file it was writing under ``out`` (not the temporary folder), and leaves no temporary behind."""
    from pairspace._outputs import write_staged

    out = tmp_path / "rep"
    if existing:
        out.mkdir()
        (out / "a.json").write_text("old a")
        (out / "notes.txt").write_text("the user's own file")
    before = _snapshot(tmp_path)

    def writer(folder: Path) -> None:
        (folder / "a.json").write_text("new a")
        _enospc(folder / "b.png")

    with pytest.raises(OSError, match=r"rep/b\.png.*left as it was") as info:
        write_staged(out, writer)
    assert ".staging" not in str(info.value)
    assert _snapshot(tmp_path) == before


def test_staged_report_replaces_written_files_and_keeps_the_others(tmp_path):
    """A successful re-run swaps in the new files; files it does not write (a user's notes, cached
    runs) are carried over; the returned paths point into ``out``."""
    from pairspace._outputs import write_staged

    out = tmp_path / "rep"
    out.mkdir()
    (out / "a.json").write_text("old a")
    (out / "runs").mkdir()
    (out / "runs" / "cached.bin").write_bytes(b"\x00\x01")
    (out / "notes.txt").write_text("mine")

    def writer(folder: Path) -> dict[str, Path]:
        (folder / "a.json").write_text("new a")
        return {"a": folder / "a.json"}

    paths = write_staged(out, writer)
    assert paths == {"a": out / "a.json"}
    assert (out / "a.json").read_text() == "new a"
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "runs" / "cached.bin").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep"]


def test_staged_report_out_is_a_file(tmp_path):
    from pairspace._outputs import write_staged

    (tmp_path / "rep").write_text("a file")
    with pytest.raises(ValueError, match=r"rep exists and is not a folder"):
        write_staged(tmp_path / "rep", lambda folder: None)
    assert (tmp_path / "rep").read_text() == "a file"


def test_staged_report_replaces_a_link_to_a_folder(tmp_path):
    """An ``out`` that is a symbolic link to a folder is replaced by the report, never followed:
    the linked folder is unchanged and nothing is left behind."""
    from pairspace._outputs import write_staged

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.json").write_text("someone else's")
    (tmp_path / "rep").symlink_to(elsewhere, target_is_directory=True)

    def writer(folder: Path) -> None:
        (folder / "a.json").write_text("new a")

    write_staged(tmp_path / "rep", writer)
    assert not (tmp_path / "rep").is_symlink() and (tmp_path / "rep" / "a.json").read_text() == "new a"
    assert (elsewhere / "a.json").read_text() == "someone else's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "rep"]


def test_an_output_option_is_not_taken_for_an_input(tmp_path):
    """``improve --runs`` names an output: an existing runs folder inside --out is not an input."""
    import argparse

    from pairspace._outputs import guard_command

    (tmp_path / "o" / "runs").mkdir(parents=True)
    args = argparse.Namespace(command="improve", out=str(tmp_path / "o"),
                              runs=str(tmp_path / "o" / "runs"), other_outputs=("runs",))
    with guard_command(args):
        assert (tmp_path / ".o.lock").exists()
    assert not (tmp_path / ".o.lock").exists()
    args.other_outputs = ()
    with pytest.raises(ValueError, match=r"--runs .* lies inside the output folder"), guard_command(args):
        pass
