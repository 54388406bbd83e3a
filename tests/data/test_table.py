"""EmbeddingTable round trips, memory mapping, atomic writes and errors."""

import os

import numpy as np
import pyarrow as pa
import pytest

from pairspace.data.table import EmbeddingTable


def make(n=7, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return EmbeddingTable([f"item{i}" for i in range(n)], rng.normal(size=(n, d)).astype(np.float32),
                          [f"c{i % 3}" for i in range(n)],
                          {"provenance": {"encoder": "x", "model_id": "m"}, "note": "ü"},
                          {"fold": [1 + i % 2 for i in range(n)], "path": [f"/a/{i}.wav" for i in range(n)],
                           "score": [i / 2 for i in range(n)]})


@pytest.mark.parametrize("ext", [".parquet", ".arrow", ".npz"])
@pytest.mark.parametrize("mmap", [False, True])
def test_round_trip(tmp_path, ext, mmap):
    t = make()
    t.save(tmp_path / f"t{ext}")
    u = EmbeddingTable.load(tmp_path / f"t{ext}", mmap=mmap)
    assert u.ids == t.ids and u.labels == t.labels and u.metadata == t.metadata
    assert u.columns == t.columns
    np.testing.assert_array_equal(u.vectors, t.vectors)
    assert u.vectors.dtype == np.float32 and u.provenance == {"encoder": "x", "model_id": "m"}
    v = EmbeddingTable(t.ids, t.vectors)
    v.save(tmp_path / f"v{ext}")
    w = EmbeddingTable.load(tmp_path / f"v{ext}")
    assert w.labels is None and w.columns == {} and w.metadata == {}


def test_arrow_mmap_is_zero_copy(tmp_path):
    t = make(n=4000, d=64)
    t.save(tmp_path / "big.arrow")
    before = pa.total_allocated_bytes()
    u = EmbeddingTable.load(tmp_path / "big.arrow", mmap=True)
    # the 1 MB of vectors is not allocated by arrow: it is a view of the mapped file
    assert pa.total_allocated_bytes() - before < t.vectors.nbytes // 4
    assert not u.vectors.flags.writeable
    np.testing.assert_array_equal(u.vectors, t.vectors)


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "t.parquet"
    make(seed=1).save(path)
    original = path.read_bytes()

    def boom(self, tmp, suffix):
        with open(tmp, "wb") as f:
            f.write(b"half a table")
        raise KeyboardInterrupt("crash in the middle of writing")

    monkeypatch.setattr(EmbeddingTable, "_write_arrow", boom)
    with pytest.raises(KeyboardInterrupt):
        make(seed=2).save(path)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["t.parquet"]  # no temporary file left behind


def test_select_take_concat_and_class_names():
    t = make()
    s = t.select(["item3", "item0"])
    assert s.ids == ["item3", "item0"] and s.columns["fold"] == [2, 1]
    np.testing.assert_array_equal(s.vectors, t.vectors[[3, 0]])
    m = t.take(np.arange(7) % 2 == 0)
    assert m.ids == ["item0", "item2", "item4", "item6"]
    c = EmbeddingTable.concat([t.take([0, 1]), t.take([2])])
    assert c.ids == ["item0", "item1", "item2"] and c.labels == ["c0", "c1", "c2"]
    assert t.class_names() == ["c0", "c1", "c2"]
    with pytest.raises(ValueError, match="not in the table"):
        t.select(["nope"])
    with pytest.raises(ValueError, match="dimensions"):
        EmbeddingTable.concat([t, EmbeddingTable(["z"], np.ones((1, 2)))])


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        EmbeddingTable(["a", "a"], np.ones((2, 2)))
    with pytest.raises(ValueError, match="column 'fold'"):
        EmbeddingTable(["a", "b"], np.ones((2, 2)), columns={"fold": [1]})
    with pytest.raises(ValueError, match="reserved"):
        EmbeddingTable(["a"], np.ones((1, 2)), columns={"label": ["x"]})
    with pytest.raises(ValueError, match="NaN"):
        EmbeddingTable(["a"], np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="unsupported"):
        make().save(tmp_path / "t.csv")
    with pytest.raises(FileNotFoundError):
        EmbeddingTable.load(tmp_path / "missing.parquet")
    (tmp_path / "bad.arrow").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bad.arrow: not a readable Arrow"):
        EmbeddingTable.load(tmp_path / "bad.arrow")
