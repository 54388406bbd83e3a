"""The one reader/writer per format (pairspace.data.formats) behind the one entry point
(pairspace.data.table.read_table), which returns the one table type."""

import functools

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pairspace.data import formats
from pairspace.data.table import EmbeddingTable, read_table

read = functools.partial(read_table, require_ids=False)


def _table(n=7, d=3, seed=0):
    rng = np.random.default_rng(seed)
    return [f"w{i}" for i in range(n)], rng.normal(size=(n, d)).astype(np.float32)


def test_every_format_reads_the_same_ids_and_vectors(tmp_path):
    ids, X = _table()
    EmbeddingTable(ids, X).save(tmp_path / "t.parquet")
    EmbeddingTable(ids, X).save(tmp_path / "t.arrow")
    EmbeddingTable(ids, X).save(tmp_path / "t.npz")
    formats.write_npy(tmp_path / "t.npy", X)
    rows = ["id," + ",".join(f"f{j}" for j in range(X.shape[1]))]
    rows += [i + "," + ",".join(repr(float(v)) for v in x) for i, x in zip(ids, X, strict=True)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    for name in ("t.parquet", "t.arrow", "t.npz", "t.npy", "t.csv"):
        m = read(tmp_path / name)
        np.testing.assert_allclose(np.asarray(m.vectors, dtype=np.float64), X, rtol=1e-6)
        assert m.ids == (None if name.endswith(".npy") else ids), name
        assert m.source.format == "." + name.split(".")[1]
    assert list(read(tmp_path / "t.parquet").source.feature_columns) == ["vector"]
    assert list(read(tmp_path / "t.csv").source.feature_columns) == ["f0", "f1", "f2"]


def test_one_formats_constant_knows_which_formats_hold_tables():
    assert set(formats.FORMATS) == {".parquet", ".arrow", ".npz", ".npy", ".csv"}
    assert formats.TABLE_SUFFIXES == (".parquet", ".arrow", ".npz")
    with pytest.raises(ValueError, match="unsupported table format '.csv'"):
        formats.format_of("a.csv", table=True)
    with pytest.raises(ValueError, match="unsupported input format '.txt'"):
        formats.format_of("a.txt")


@pytest.mark.parametrize("header", ["", "Unnamed: 0"])
def test_a_pandas_index_column_is_not_a_feature(tmp_path, header):
    # pandas' DataFrame.to_csv writes the index as an unnamed first column
    (tmp_path / "p.csv").write_text(f"{header},a,b\n0,1.5,2.0\n1,3.0,4.5\n2,5.0,6.0\n")
    m = read(tmp_path / "p.csv")
    assert list(m.source.feature_columns) == ["a", "b"] and list(m.source.ignored_columns) == [header]
    np.testing.assert_array_equal(m.vectors, [[1.5, 2.0], [3.0, 4.5], [5.0, 6.0]])
    # an integer first column holding exactly 0..n-1 is an index too
    (tmp_path / "q.csv").write_text("row,a\n0,1.5\n1,3.0\n2,5.0\n")
    assert list(read(tmp_path / "q.csv").source.feature_columns) == ["a"]
    # unless detection is off or the columns are given
    assert read(tmp_path / "q.csv", detect_index=False).vectors.shape == (3, 2)
    m = read(tmp_path / "q.csv", feature_columns=["row", "a"])
    assert list(m.source.feature_columns) == ["row", "a"] and m.vectors.shape == (3, 2)


def test_explicit_id_and_feature_columns(tmp_path):
    (tmp_path / "c.csv").write_text("x,name,y,z\n1,a,2,9\n3,b,4,9\n")
    m = read(tmp_path / "c.csv", id_column="name", feature_columns=["x", "y"])
    assert m.ids == ["a", "b"] and m.source.id_column == "name"
    np.testing.assert_array_equal(m.vectors, [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="no column.*'w'"):
        read(tmp_path / "c.csv", feature_columns=["w"])
    with pytest.raises(ValueError, match="no id column 'nope'"):
        read(tmp_path / "c.csv", id_column="nope")


def test_errors_name_the_file_and_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        read(tmp_path / "missing.parquet")
    (tmp_path / "bad.parquet").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bad.parquet: not a readable parquet"):
        read(tmp_path / "bad.parquet")
    pq.write_table(pa.table({"id": ["a", "b"], "vector": [[1.0, 2.0], [1.0]]}),
                   tmp_path / "ragged.parquet")
    with pytest.raises(ValueError, match="ragged vectors in 'vector': row 0 has 2 values, row 1"):
        read(tmp_path / "ragged.parquet")
    pq.write_table(pa.table({"id": ["a", "a"], "vector": [[1.0], [2.0]]}), tmp_path / "dup.parquet")
    with pytest.raises(ValueError, match="1 duplicated id"):
        read(tmp_path / "dup.parquet")
    pq.write_table(pa.table({"id": ["a", None], "vector": [[1.0], [2.0]]}), tmp_path / "n.parquet")
    with pytest.raises(ValueError, match="missing values .*row 1"):
        read(tmp_path / "n.parquet")
    np.save(tmp_path / "nan.npy", np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match="NaN values .* row 1"):
        read(tmp_path / "nan.npy")
    np.save(tmp_path / "obj.npy", np.array([[1], "a"], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="obj.npy"):
        read(tmp_path / "obj.npy")


def test_streamed_parquet_equals_the_whole_read(tmp_path):
    ids, X = _table(n=1000, d=4, seed=3)
    EmbeddingTable(ids, X).save(tmp_path / "t.parquet")
    stream = formats.iter_parquet_vectors(tmp_path / "t.parquet", batch_rows=128)
    assert (stream.n, stream.dtype) == (1000, np.float32)
    blocks = list(stream)
    assert len(blocks) == 8 and max(b.shape[0] for b in blocks) == 128
    np.testing.assert_array_equal(np.concatenate(blocks), X)
    seen = []

    class Bar:
        def update(self, k):
            seen.append(k)

    out = formats.parquet_to_npy(stream, tmp_path / "t.npy", progress=Bar())
    np.testing.assert_array_equal(np.load(out), X)
    assert sum(seen) == 1000
    with pytest.raises(ValueError, match="no column 'emb'"):
        formats.iter_parquet_vectors(tmp_path / "t.parquet", column="emb")


def test_read_column_and_atomic_writers(tmp_path):
    pq.write_table(pa.table({"index": ["the", "of"]}), tmp_path / "w.parquet")
    assert formats.read_column(tmp_path / "w.parquet") == ["the", "of"]
    pq.write_table(pa.table({"a": [1], "b": [2]}), tmp_path / "two.parquet")
    with pytest.raises(ValueError, match="expected one column"):
        formats.read_column(tmp_path / "two.parquet")
    formats.write_npz(tmp_path / "z.npz", {"vectors": np.eye(2), "ids": np.array(["a", "b"])})
    m = read(tmp_path / "z.npz")
    assert m.ids == ["a", "b"] and m.source.id_column == "ids"
    formats.write_arrow(pa.table({"id": ["a"], "vector": [[1.0, 2.0]]}), tmp_path / "o.arrow")
    assert read(tmp_path / "o.arrow").vectors.tolist() == [[1.0, 2.0]]
    assert not list(tmp_path.glob(".*.tmp"))


def test_stream_batches_follow_the_memory_budget(tmp_path):
    ids, X = _table(n=300, d=8, seed=4)
    EmbeddingTable(ids, X).save(tmp_path / "t.parquet")
    # 8 float32 values per row, counted twice (arrow buffer + numpy copy): 64 bytes a row
    stream = formats.iter_parquet_vectors(tmp_path / "t.parquet", memory_budget=64 * 50)
    assert stream.batch_rows == 50
    assert [b.shape[0] for b in stream] == [50] * 6
    assert formats.iter_parquet_vectors(tmp_path / "t.parquet").batch_rows == 65536
    with pytest.raises(ValueError, match="memory_budget"):
        formats.iter_parquet_vectors(tmp_path / "t.parquet", memory_budget=0)


def test_dtype_conversion_keeps_npy_memory_maps(tmp_path):
    ids, X = _table(n=5, d=3, seed=5)
    EmbeddingTable(ids, X).save(tmp_path / "t.parquet")
    assert read(tmp_path / "t.parquet").vectors.dtype == np.float32
    m = read(tmp_path / "t.parquet", dtype=np.float64)
    assert m.vectors.dtype == np.float64 and np.array_equal(m.vectors, X.astype(np.float64))
    formats.write_npy(tmp_path / "t.npy", X)
    assert isinstance(read(tmp_path / "t.npy", dtype=np.float64).vectors, np.memmap)


def test_one_entry_point_keeps_labels_columns_and_metadata(tmp_path):
    """A table file read by read_table (or load, or the deprecated read_matrix) gives the same
    table: ids, vectors, labels, extra columns and metadata; a file without ids is refused unless
    allowed, and a float64 matrix keeps its precision without a copy."""
    ids, X = _table()
    t = EmbeddingTable(ids, X, [f"c{i % 2}" for i in range(7)], {"k": 1}, {"fold": list(range(7))})
    for name in ("t.parquet", "t.arrow", "t.npz"):
        t.save(tmp_path / name)
        for back in (read_table(tmp_path / name), EmbeddingTable.load(tmp_path / name, mmap=True)):
            assert (back.ids, back.labels, back.columns, back.metadata) == (
                t.ids, t.labels, t.columns, t.metadata), name
            np.testing.assert_array_equal(back.vectors, X)
            assert back.path == str(tmp_path / name)
    with pytest.warns(DeprecationWarning, match="read_table"):
        old = formats.read_matrix(tmp_path / "t.parquet")
    assert isinstance(old, EmbeddingTable) and old.ids == ids and old.labels is None
    np.save(tmp_path / "f.npy", X.astype(np.float64))
    with pytest.raises(ValueError, match="has no ids"):
        read_table(tmp_path / "f.npy")
    bare = read(tmp_path / "f.npy")
    assert bare.ids is None and len(bare) == 7 and isinstance(bare.vectors, np.memmap)
    assert bare.vectors.dtype == np.float64
    with pytest.raises(ValueError, match="no ids"):
        bare.select(["w0"])
    with pytest.raises(ValueError, match="no ids"):
        bare.save(tmp_path / "g.parquet")
    assert EmbeddingTable(ids, X.astype(np.float64)).vectors.dtype == np.float32  # built in code
    np.save(tmp_path / "nan.npy", np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="NaN") as err:  # the file is named once, not twice
        read(str(tmp_path) + "/./nan.npy")
    assert str(err.value).count("nan.npy") == 1
