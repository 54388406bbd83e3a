"""The one reader/writer per format (pairspace.data.formats)."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pairspace.data import formats
from pairspace.data.table import EmbeddingTable


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
        m = formats.read_matrix(tmp_path / name)
        np.testing.assert_allclose(np.asarray(m.vectors, dtype=np.float64), X, rtol=1e-6)
        assert m.ids == (None if name.endswith(".npy") else ids), name
        assert m.format == "." + name.split(".")[1]
    assert formats.read_matrix(tmp_path / "t.parquet").feature_columns == ["vector"]
    assert formats.read_matrix(tmp_path / "t.csv").feature_columns == ["f0", "f1", "f2"]


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
    m = formats.read_matrix(tmp_path / "p.csv")
    assert m.feature_columns == ["a", "b"] and m.ignored_columns == [header]
    np.testing.assert_array_equal(m.vectors, [[1.5, 2.0], [3.0, 4.5], [5.0, 6.0]])
    # an integer first column holding exactly 0..n-1 is an index too
    (tmp_path / "q.csv").write_text("row,a\n0,1.5\n1,3.0\n2,5.0\n")
    assert formats.read_matrix(tmp_path / "q.csv").feature_columns == ["a"]
    # unless detection is off or the columns are given
    assert formats.read_matrix(tmp_path / "q.csv", detect_index=False).vectors.shape == (3, 2)
    m = formats.read_matrix(tmp_path / "q.csv", columns=["row", "a"])
    assert m.feature_columns == ["row", "a"] and m.vectors.shape == (3, 2)


def test_explicit_id_and_feature_columns(tmp_path):
    (tmp_path / "c.csv").write_text("x,name,y,z\n1,a,2,9\n3,b,4,9\n")
    m = formats.read_matrix(tmp_path / "c.csv", id_column="name", columns=["x", "y"])
    assert m.ids == ["a", "b"] and m.id_column == "name"
    np.testing.assert_array_equal(m.vectors, [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="no column.*'w'"):
        formats.read_matrix(tmp_path / "c.csv", columns=["w"])
    with pytest.raises(ValueError, match="no id column 'nope'"):
        formats.read_matrix(tmp_path / "c.csv", id_column="nope")


def test_errors_name_the_file_and_the_problem(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        formats.read_matrix(tmp_path / "missing.parquet")
    (tmp_path / "bad.parquet").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="bad.parquet: not a readable parquet"):
        formats.read_matrix(tmp_path / "bad.parquet")
    pq.write_table(pa.table({"id": ["a", "b"], "vector": [[1.0, 2.0], [1.0]]}),
                   tmp_path / "ragged.parquet")
    with pytest.raises(ValueError, match="ragged vectors in 'vector': row 0 has 2 values, row 1"):
        formats.read_matrix(tmp_path / "ragged.parquet")
    pq.write_table(pa.table({"id": ["a", "a"], "vector": [[1.0], [2.0]]}), tmp_path / "dup.parquet")
    with pytest.raises(ValueError, match="1 duplicated id"):
        formats.read_matrix(tmp_path / "dup.parquet")
    pq.write_table(pa.table({"id": ["a", None], "vector": [[1.0], [2.0]]}), tmp_path / "n.parquet")
    with pytest.raises(ValueError, match="missing values .*row 1"):
        formats.read_matrix(tmp_path / "n.parquet")
    np.save(tmp_path / "nan.npy", np.array([[1.0], [np.nan]]))
    with pytest.raises(ValueError, match="NaN values .* row 1"):
        formats.read_matrix(tmp_path / "nan.npy")
    np.save(tmp_path / "obj.npy", np.array([[1], "a"], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="obj.npy"):
        formats.read_matrix(tmp_path / "obj.npy")


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
    m = formats.read_matrix(tmp_path / "z.npz")
    assert m.ids == ["a", "b"] and m.id_column == "ids"
    formats.write_arrow(pa.table({"id": ["a"], "vector": [[1.0, 2.0]]}), tmp_path / "o.arrow")
    assert formats.read_matrix(tmp_path / "o.arrow").vectors.tolist() == [[1.0, 2.0]]
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
