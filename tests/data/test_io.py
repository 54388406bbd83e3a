"""Loading paired inputs from every format, id alignment and clear errors for bad files."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pairspace.data import EmbeddingTable, load_pair, load_space


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    ids = [f"w{i}" for i in range(12)]
    return ids, rng.normal(size=(12, 4)), rng.normal(size=(12, 3))


def write_csv(path, ids, A, header=True):
    lines = (["id," + ",".join(f"f{j}" for j in range(A.shape[1]))] if header else [])
    lines += [f"{i}," + ",".join(repr(float(v)) for v in row) for i, row in zip(ids, A, strict=True)]
    path.write_text("\n".join(lines) + "\n")


def test_every_format_round_trips(tmp_path, data):
    ids, X, _ = data
    np.save(tmp_path / "a.npy", X)
    np.savez(tmp_path / "b.npz", vectors=X, ids=np.array(ids))
    np.savez(tmp_path / "b2.npz", emb=X)
    EmbeddingTable(ids, X).save(tmp_path / "c.parquet")
    pq.write_table(pa.table({"name": ids, **{f"f{j}": X[:, j] for j in range(4)}}),
                   tmp_path / "d.parquet")
    write_csv(tmp_path / "e.csv", ids, X)
    for name, has_ids, tol in [("a.npy", False, 0), ("b.npz", True, 0), ("b2.npz", False, 0),
                               ("c.parquet", True, 1e-6), ("d.parquet", True, 0),
                               ("e.csv", True, 1e-12)]:
        s = load_space(tmp_path / name)
        np.testing.assert_allclose(s.vectors, X, rtol=tol, atol=tol, err_msg=name)
        assert (s.ids == ids) if has_ids else s.ids is None, name


def test_alignment_by_id(tmp_path, data):
    ids, X, Y = data
    perm = np.random.default_rng(1).permutation(12)
    np.savez(tmp_path / "x.npz", vectors=X, ids=np.array(ids))
    write_csv(tmp_path / "y.csv", [ids[p] for p in perm], Y[perm])
    pair = load_pair(tmp_path / "x.npz", tmp_path / "y.csv")
    assert pair.aligned_by == "id" and pair.ids == ids
    np.testing.assert_allclose(pair.Y, Y)
    np.testing.assert_allclose(pair.X, X)
    # the pair is two tables of the one table type, y reordered to x's ids
    assert isinstance(pair.x, EmbeddingTable) and pair.y.ids == ids
    assert pair.columns["y"]["features"] == [f"f{j}" for j in range(Y.shape[1])]
    # ids on one side only: paired by position, the ids are kept
    np.save(tmp_path / "y.npy", Y)
    p2 = load_pair(tmp_path / "x.npz", tmp_path / "y.npy")
    assert p2.aligned_by == "position" and p2.ids == ids


def test_id_mismatch_lists_a_few_ids(tmp_path, data):
    ids, X, Y = data
    np.savez(tmp_path / "x.npz", vectors=X, ids=np.array(ids))
    other = ids[:9] + ["zz1", "zz2", "zz3"]
    np.savez(tmp_path / "y.npz", vectors=Y, ids=np.array(other))
    with pytest.raises(ValueError) as e:
        load_pair(tmp_path / "x.npz", tmp_path / "y.npz")
    msg = str(e.value)
    assert "3 id(s) only in X" in msg and "'w9'" in msg and "'zz1'" in msg


def test_row_count_mismatch_without_ids(tmp_path, data):
    _, X, Y = data
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "y.npy", Y[:10])
    with pytest.raises(ValueError, match="12 rows .* 10"):
        load_pair(tmp_path / "x.npy", tmp_path / "y.npy")


def test_bad_files(tmp_path, data):
    ids, X, _ = data
    with pytest.raises(FileNotFoundError, match="not found"):
        load_space(tmp_path / "missing.npy")
    (tmp_path / "junk.npy").write_bytes(b"not numpy at all")
    with pytest.raises(ValueError, match="junk.npy"):
        load_space(tmp_path / "junk.npy")
    np.save(tmp_path / "ragged.npy", np.array([[1.0, 2.0], [3.0]], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="ragged"):
        load_space(tmp_path / "ragged.npy")
    Xn = X.copy()
    Xn[5, 2] = np.nan
    np.savez(tmp_path / "nan.npz", vectors=Xn, ids=np.array(ids))
    with pytest.raises(ValueError, match=r"NaN .* row 5 \(id 'w5'\)"):
        load_space(tmp_path / "nan.npz")
    (tmp_path / "ragged.csv").write_text("id,a,b\nx,1,2\ny,3\n")
    with pytest.raises(ValueError, match="ragged.csv"):
        load_space(tmp_path / "ragged.csv")
    (tmp_path / "empty_cell.csv").write_text("id,a,b\nx,1,2\ny,3,\n")
    with pytest.raises(ValueError, match="NaN .* row 1"):
        load_space(tmp_path / "empty_cell.csv")
    (tmp_path / "text.csv").write_text("id,a,b\nx,1,hello\ny,3,4\n")
    with pytest.raises(ValueError, match="non-numeric"):
        load_space(tmp_path / "text.csv")
    pq.write_table(pa.table({"id": ["a", "b"], "vector": [[1.0, 2.0], [3.0]]}),
                   tmp_path / "ragged.parquet")
    with pytest.raises(ValueError, match="ragged vectors"):
        load_space(tmp_path / "ragged.parquet")
    (tmp_path / "bad.parquet").write_bytes(b"PAR1garbage")
    with pytest.raises(ValueError, match="parquet"):
        load_space(tmp_path / "bad.parquet")
    write_csv(tmp_path / "dup.csv", ["a", "b", "a"], X[:3])
    with pytest.raises(ValueError, match="duplicated id"):
        load_space(tmp_path / "dup.csv")
    (tmp_path / "x.txt").write_text("1 2\n")
    with pytest.raises(ValueError, match="unsupported input format"):
        load_space(tmp_path / "x.txt")
    np.save(tmp_path / "vec.npy", np.arange(5.0))
    with pytest.raises(ValueError, match="2-D"):
        load_space(tmp_path / "vec.npy")
