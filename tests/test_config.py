"""The working-memory setting (pairspace.set_config / get_config / config_context).

The budget only cuts the work into blocks: every result must be bit-identical under any setting,
and the setting must reach the blocked code (checked through the searcher's block sizes and the
budget a curation records), stay local to its thread or asyncio task, and come back after a
``with`` block, also when the block raises.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading

import numpy as np
import pytest
from oracles import knn_oracle, nngs_oracle

import pairspace
from pairspace._config import DEFAULT_MEMORY_BUDGET, format_bytes, parse_bytes, resolve_memory_budget
from pairspace._validation import CACHE_BLOCK_BYTES, rows_per_block
from pairspace.measures.overlap import overlap_counts
from pairspace.neighbors.exact import ExactSearcher
from pairspace.studies.curation import curate_du
from pairspace.tasks.retrieval import retrieval_metrics

TINY = 4096  # a few rows of scores per block at n = 120


def _data(n: int = 120, d: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, X @ rng.normal(size=(d, d)) + 0.5 * rng.normal(size=(n, d))


def _in_thread(fn):
    """Run ``fn`` in a new thread (a set_config there stays there) and return what it returns."""
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # re-raised in the test's thread
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    t.join(60)
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_default_and_get_config_is_a_copy():
    assert pairspace.get_config() == {"memory_budget": DEFAULT_MEMORY_BUDGET}
    cfg = pairspace.get_config()
    cfg["memory_budget"] = 1
    assert pairspace.get_config()["memory_budget"] == DEFAULT_MEMORY_BUDGET
    assert resolve_memory_budget(None) == DEFAULT_MEMORY_BUDGET
    assert resolve_memory_budget(123) == 123  # an explicit value wins


def test_set_config_changes_the_setting_for_what_follows():
    def body():
        pairspace.set_config(memory_budget="512MiB")
        assert pairspace.get_config()["memory_budget"] == 512 * 2**20
        pairspace.set_config(memory_budget=None)  # None keeps it
        assert pairspace.get_config()["memory_budget"] == 512 * 2**20
        assert ExactSearcher(_data()[0], 3, "cosine").memory_budget == 512 * 2**20
        pairspace.set_config(memory_budget=1000)
        return pairspace.get_config()["memory_budget"]

    assert _in_thread(body) == 1000
    assert pairspace.get_config()["memory_budget"] == DEFAULT_MEMORY_BUDGET  # other threads: unchanged


def test_set_config_inside_a_block_ends_with_the_block():
    def body():
        pairspace.set_config(memory_budget=1000)
        with pairspace.config_context(memory_budget=2000):
            pairspace.set_config(memory_budget=3000)
            inside = pairspace.get_config()["memory_budget"]
        return inside, pairspace.get_config()["memory_budget"]

    assert _in_thread(body) == (3000, 1000)


def test_set_config_reaches_the_later_asyncio_tasks_of_its_thread():
    # a notebook kernel may run every cell as its own task: a setting made in one must reach the next
    async def cell_1() -> None:
        pairspace.set_config(memory_budget="3MiB")

    async def cell_2() -> int:
        return pairspace.get_config()["memory_budget"]

    def body() -> int:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(loop.create_task(cell_1()))
            return loop.run_until_complete(loop.create_task(cell_2()))
        finally:
            loop.close()

    assert _in_thread(body) == 3 * 2**20


def test_context_restores_the_old_value_also_on_exception():
    with pairspace.config_context(memory_budget=2**20):
        assert pairspace.get_config()["memory_budget"] == 2**20
        with pairspace.config_context(memory_budget="1KiB"):
            assert pairspace.get_config()["memory_budget"] == 1024
            with pairspace.config_context():  # nothing given: the setting stays
                assert pairspace.get_config()["memory_budget"] == 1024
        assert pairspace.get_config()["memory_budget"] == 2**20
        with pytest.raises(RuntimeError, match="boom"), pairspace.config_context(memory_budget=7):
            assert pairspace.get_config()["memory_budget"] == 7
            raise RuntimeError("boom")
        assert pairspace.get_config()["memory_budget"] == 2**20
    assert pairspace.get_config()["memory_budget"] == DEFAULT_MEMORY_BUDGET


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "", "abc", "0MiB", "12 XB", "-3KiB", [8]])
def test_bad_values_are_clear_errors_and_change_nothing(bad):
    with pytest.raises(ValueError, match="memory_budget must be"):
        pairspace.set_config(memory_budget=bad)
    message = "memory_budget must be"
    with pytest.raises(ValueError, match=message), pairspace.config_context(memory_budget=bad):
        pass  # never reached: the value is checked before the block starts
    with pytest.raises(ValueError, match="memory_budget must be"):
        pairspace.knn(_data()[0], 3, memory_budget=bad)  # an explicit bad value: the same message
    assert pairspace.get_config()["memory_budget"] == DEFAULT_MEMORY_BUDGET


@pytest.mark.parametrize(("text", "value"), [
    ("1", 1), ("4096", 4096), ("4096B", 4096), ("2KiB", 2048), ("1.5MiB", 3 * 2**19),
    ("256mib", 256 * 2**20), ("3GiB", 3 * 2**30), ("1TiB", 2**40), ("64kB", 64_000),
    ("2k", 2000), ("5MB", 5 * 10**6), ("2 GB", 2 * 10**9), ("1T", 10**12),
])
def test_size_strings(text, value):
    assert parse_bytes(text) == value
    assert parse_bytes(format_bytes(value)) == value  # what --help shows reads back


def test_format_bytes():
    assert format_bytes(DEFAULT_MEMORY_BUDGET) == "256MiB"
    assert format_bytes(3 * 2**30) == "3GiB" and format_bytes(3072) == "3KiB"
    assert format_bytes(1536) == "1536" and format_bytes(1000) == "1000"


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("symmetric", [True, False])
def test_knn_is_bit_identical_under_any_setting(metric, symmetric):
    X, _ = _data()
    opts = {"symmetric": symmetric}
    default = pairspace.knn(X, 7, metric, **opts)
    explicit = pairspace.knn(X, 7, metric, memory_budget=TINY, **opts)
    with pairspace.config_context(memory_budget=TINY):
        configured = pairspace.knn(X, 7, metric, **opts)
        searcher = ExactSearcher(X, 7, metric, symmetric=symmetric)
        small = (searcher.symmetric_block_rows() if symmetric else searcher.query_block_rows())
    big = ExactSearcher(X, 7, metric, symmetric=symmetric)
    large = big.symmetric_block_rows() if symmetric else big.query_block_rows()
    assert small < large  # the setting does cut smaller blocks
    assert searcher.memory_budget == TINY and big.memory_budget == DEFAULT_MEMORY_BUDGET
    idx, dist = knn_oracle(X, 7, metric)
    for res in (default, explicit, configured):
        assert np.array_equal(res.indices, default.indices)
        assert np.array_equal(res.distances, default.distances)  # bit-identical, not approx
        assert np.array_equal(res.indices, idx)
        np.testing.assert_allclose(res.distances, dist, atol=1e-10)


def test_nngs_is_bit_identical_under_any_setting():
    X, Y = _data(seed=3)
    ref = pairspace.nngs(X, Y, 9), pairspace.nngs_per_item(X, Y, 9)
    explicit = (pairspace.nngs(X, Y, 9, memory_budget=TINY),
                pairspace.nngs_per_item(X, Y, 9, memory_budget=TINY))
    with pairspace.config_context(memory_budget=TINY):
        configured = pairspace.nngs(X, Y, 9), pairspace.nngs_per_item(X, Y, 9)
    value, per_item = nngs_oracle(X, Y, 9, "cosine")
    assert ref[0] == pytest.approx(value, abs=1e-12)
    np.testing.assert_allclose(ref[1], per_item, atol=1e-12)
    for got in (explicit, configured):
        assert got[0] == ref[0]
        assert np.array_equal(got[1], ref[1])


def test_a_budget_below_one_row_processes_one_row_at_a_time():
    X, Y = _data(n=60)
    assert rows_per_block(1, 10_000) == 1  # never zero rows: slower, never stuck
    ref = pairspace.knn(X, 5)
    with pairspace.config_context(memory_budget=1):
        s = ExactSearcher(X, 5, "cosine", symmetric=False)
        assert s.query_block_rows() == 1
        assert ExactSearcher(X, 5, "cosine", symmetric=True).symmetric_block_rows() == s.kk + 1
        assert resolve_memory_budget(None, cap=CACHE_BLOCK_BYTES) == 1  # the cache blocks shrink too
        tiny = pairspace.knn(X, 5)
        counts = overlap_counts(ref.indices, pairspace.knn(Y, 5).indices)
        rel = np.arange(60)
        retrieval = retrieval_metrics(X, Y, rel)
    assert np.array_equal(tiny.indices, ref.indices) and np.array_equal(tiny.distances, ref.distances)
    assert np.array_equal(counts, overlap_counts(ref.indices, pairspace.knn(Y, 5).indices))
    assert retrieval == retrieval_metrics(X, Y, rel)


@pytest.mark.parametrize("measure", ["nngs", "cknna"])
def test_bootstrap_draws_the_same_resamples_under_any_setting(measure):
    # the resamples are drawn in chunks sized by the setting (one per draw under 1 byte, odd
    # counts of n = 101 indices): the random stream, and so the interval, must not depend on it
    X, Y = _data(n=101, seed=4)
    ref = pairspace.bootstrap_ci(X, Y, measure, k=5, n_resamples=60, seed=1).to_dict()
    with pairspace.config_context(memory_budget=1):
        assert pairspace.bootstrap_ci(X, Y, measure, k=5, n_resamples=60, seed=1).to_dict() == ref


def test_cache_sized_blocks_keep_their_size_under_a_large_setting():
    with pairspace.config_context(memory_budget="8GiB"):
        assert resolve_memory_budget(None, cap=CACHE_BLOCK_BYTES) == CACHE_BLOCK_BYTES
        assert resolve_memory_budget(2**33, cap=CACHE_BLOCK_BYTES) == 2**33  # explicit: as given


def test_curation_records_the_budget_it_used_and_keeps_the_same_pairs():
    A, B = _data(n=80, seed=5)
    ref = curate_du(A, B, tau="q0.9", sweep=("q0.5",))
    with pairspace.config_context(memory_budget=700):
        small = curate_du(A, B, tau="q0.9", sweep=("q0.5",))
    explicit = curate_du(A, B, tau="q0.9", sweep=("q0.5",), memory_budget=700)
    assert ref.settings["memory_budget"] == DEFAULT_MEMORY_BUDGET
    assert small.settings["memory_budget"] == explicit.settings["memory_budget"] == 700
    # the setting and the same explicit budget cut the same blocks: bit-identical
    assert small.settings["tau_value"] == explicit.settings["tau_value"]
    assert np.array_equal(small.similarity, explicit.similarity)
    # another block size may round a float cosine differently in the last bit (BLAS picks its
    # kernel by block shape); the pairs stay the same
    for got in (small, explicit):
        assert got.settings["tau_value"] == pytest.approx(ref.settings["tau_value"], rel=1e-12)
        assert np.array_equal(got.audio_index, ref.audio_index)
        assert np.array_equal(got.text_index, ref.text_index)
        np.testing.assert_allclose(got.similarity, ref.similarity, rtol=1e-12)


def test_threads_see_their_own_setting():
    X, _ = _data(n=90)
    ref = pairspace.knn(X, 4)
    barrier = threading.Barrier(3)
    seen: dict[str, object] = {}

    def work(name: str, budget: int, permanent: bool) -> None:
        try:
            if permanent:
                pairspace.set_config(memory_budget=budget)
                ctx = pairspace.config_context()
            else:
                ctx = pairspace.config_context(memory_budget=budget)
            with ctx:
                barrier.wait(timeout=30)  # all three threads hold their setting at once
                res = pairspace.knn(X, 4)
                seen[name] = (pairspace.get_config()["memory_budget"],
                              ExactSearcher(X, 4, "cosine").memory_budget, res)
                barrier.wait(timeout=30)
            seen[name + " after"] = pairspace.get_config()["memory_budget"]
        except BaseException as exc:  # reported by the main thread
            seen[name] = exc

    threads = [threading.Thread(target=work, args=("a", 1000, False)),
               threading.Thread(target=work, args=("b", 123_456, False)),
               threading.Thread(target=work, args=("c", 77_777, True))]
    with pairspace.config_context(memory_budget=5555):  # a new thread does not inherit it
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert pairspace.get_config()["memory_budget"] == 5555
    for name, budget in (("a", 1000), ("b", 123_456), ("c", 77_777)):
        assert not isinstance(seen[name], BaseException), seen[name]
        got, searcher_budget, res = seen[name]
        assert got == searcher_budget == budget
        assert np.array_equal(res.indices, ref.indices)
        assert np.array_equal(res.distances, ref.distances)
    assert seen["a after"] == seen["b after"] == DEFAULT_MEMORY_BUDGET  # fresh threads: the default
    assert seen["c after"] == 77_777  # set_config lasts in its own thread
    assert pairspace.get_config()["memory_budget"] == DEFAULT_MEMORY_BUDGET


def test_asyncio_tasks_see_their_own_setting():
    async def task(budget: int, steps: int) -> list[int]:
        out = []
        with pairspace.config_context(memory_budget=budget):
            for _ in range(steps):
                await asyncio.sleep(0)  # let the other task run inside its own block
                out.append(pairspace.get_config()["memory_budget"])
        return out

    async def main() -> tuple[list[int], list[int], int]:
        a, b = await asyncio.gather(task(2048, 5), task(4096, 5))
        return a, b, pairspace.get_config()["memory_budget"]

    a, b, after = asyncio.run(main())
    assert a == [2048] * 5 and b == [4096] * 5 and after == DEFAULT_MEMORY_BUDGET


def test_cli_memory_budget_applies_to_the_whole_command(tmp_path, monkeypatch, capsys):
    X, Y = _data(n=100, seed=2)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    budgets: list[int] = []
    post_init = ExactSearcher.__post_init__

    def spy(self) -> None:
        post_init(self)
        budgets.append(self.memory_budget)

    monkeypatch.setattr(ExactSearcher, "__post_init__", spy)
    from pairspace.cli import main

    docs = {}
    for name, extra in (("default", []), ("small", ["--memory-budget", "3KiB"])):
        budgets.clear()
        rc = main(["compare", str(tmp_path / "X.npy"), str(tmp_path / "Y.npy"), "--k", "5",
                   "--k-max", "20", "--measures", "nngs", "mutual_knn", "--json",
                   "--out", str(tmp_path / name), *extra])
        assert rc == 0
        docs[name] = json.loads(capsys.readouterr().out)
        assert budgets and set(budgets) == {3072 if extra else DEFAULT_MEMORY_BUDGET}
    assert docs["small"]["results"] == docs["default"]["results"]
    assert pairspace.get_config()["memory_budget"] == DEFAULT_MEMORY_BUDGET  # restored after main


def test_cli_rejects_a_bad_size_and_curate_keeps_its_flag(capsys):
    from pairspace.cli import build_parser, main

    with pytest.raises(SystemExit) as exc:
        main(["measures", "--memory-budget", "lots"])
    assert exc.value.code == 2
    assert "512MiB" in capsys.readouterr().err
    args = build_parser("curate").parse_args(["curate", "--teacher", "t", "--audio", "a", "--text",
                                              "x", "--out", "o", "--memory-budget", "1000"])
    assert args.memory_budget == 1000


def test_the_setting_needs_no_numpy_or_torch():
    code = ("import sys, pairspace; pairspace.set_config(memory_budget='1GiB'); "
            "assert pairspace.get_config() == {'memory_budget': 2**30}; "
            "assert 'numpy' not in sys.modules and 'torch' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
