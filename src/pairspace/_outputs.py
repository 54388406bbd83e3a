"""Output safety: inputs never overwritten, one writer per output, report folders replaced whole.

Three guards, shared by every command and by the Python API:

**Identity** (:func:`check_not_input`). Before any work, an output is compared with every input by
resolved path (symbolic links followed) and by inode (hard links): an output that *is* an input, a
report folder that *holds* an input, and an existing output file that is a hard link of an input are
refused. ``compare cmpIn/results.csv y.csv --out cmpIn`` would otherwise overwrite its own input.

**Lock** (:func:`output_lock`). An exclusive lock on every run or report folder (and output file):
a second process that wants the same output is refused at once instead of interleaving its files.
The lock is a :mod:`filelock` lock (``flock``) on a hidden sibling file ``.NAME.lock``, which also
holds between machines on a shared filesystem (NFS emulates ``flock`` with byte-range locks), where
a process id would only describe the local machine. The lock file (which holds the writer's pid, for the
message) is removed when the lock is released; one left by a killed process is no lock at all. A
command hands its lock down to the function it calls (``pairspace train`` to
:func:`pairspace.align.trainer.train`), but no job takes the same lock twice.

**All at once** (:func:`write_staged`). A report is written into a temporary sibling folder, and
only once every file is complete is that folder swapped in for the old one, in one
``renameat2(RENAME_EXCHANGE)`` where the kernel offers it (two renames otherwise). A failed or
interrupted re-run (a full disk, a bug, Ctrl-C) leaves the previous report as it was; files of the
old folder that the new report does not rewrite (cached runs, user files) are carried over as hard
links.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

LOCK_TIMEOUT_S = 0.0
"""How long a command waits for another process's lock on its output (0: refuse at once)."""

_HELD: dict[str, list[Any]] = {}  # lock file -> [FileLock, owners holding it, folders created]


def lock_path(out: str | os.PathLike[str]) -> Path:
    """The lock file of an output: the hidden sibling ``.NAME.lock`` (absolute)."""
    p = Path(os.path.abspath(os.fspath(out)))
    return p.parent / f".{p.name}.lock"


@contextlib.contextmanager
def output_lock(out: str | os.PathLike[str], owner: str = "command",
                timeout: float = LOCK_TIMEOUT_S) -> Iterator[Path]:
    """Hold the exclusive lock of ``out`` for the duration of the block.

    Parameters
    ----------
    out : path-like
        The run folder, report folder or output file.
    owner : str
        Who takes the lock. Within one process a holder may hand the lock down to a different
        owner (the command line's guard, owner ``"command"``, to :func:`~pairspace.data.embed.
        embed_manifest`, owner ``"embed"``), but the same owner never takes it twice: a second
        embedding job started inside the first is refused like one in another process.
    timeout : float
        Seconds to wait for another holder (0: refuse at once).

    Raises
    ------
    ValueError
        When another job holds the lock (the message names the output, the pid written in the
        lock file and the lock file).
    """
    from filelock import FileLock, Timeout

    lp = lock_path(out)
    key = str(lp)
    held = _HELD.get(key)
    if held is not None and owner not in held[1]:  # handed down within this process
        held[1].append(owner)
        try:
            yield lp
        finally:
            held[1].remove(owner)
        return
    created = _make_parents(lp.parent, out)
    lock = FileLock(key, timeout=timeout, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        _remove_empty(created)
        pid = _lock_pid(lp)
        who = f" (pid {pid})" if pid else ""
        raise ValueError(f"{out} is being written by another pairspace job{who}: it holds the lock "
                         f"{lp}; wait for it to finish or choose another output") from None
    except OSError as exc:
        _remove_empty(created)
        raise ValueError(f"cannot lock the output {out} ({lp}): {exc.strerror or exc}") from None
    if held is None:
        _HELD[key] = [lock, [owner], created]
    with contextlib.suppress(OSError):
        lp.write_text(f"{os.getpid()}\n")  # for the message of a refused job (the lock is flock)
    try:
        yield lp
    finally:
        if held is None:
            del _HELD[key]
            with contextlib.suppress(OSError):
                lp.unlink()  # while still held: a waiting process sees a stale inode and retries
        lock.release()
        _remove_empty(created)


def _lock_pid(lp: Path) -> int:
    try:
        return int(lp.read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


def _make_parents(folder: Path, out: str | os.PathLike[str] | None = None) -> list[Path]:
    """Create ``folder`` and its missing parents; the ones created, deepest first."""
    missing = []
    p = folder
    while not p.exists() and p.parent != p:
        missing.append(p)
        p = p.parent
    if p.exists() and not p.is_dir():
        raise ValueError(f"--out {out or folder} lies under {p}, which is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _remove_empty(missing)
        raise ValueError(f"cannot create the folder {folder}: {exc.strerror or exc}") from None
    return missing


def _remove_empty(folders: Iterable[Path]) -> None:
    for f in folders:
        with contextlib.suppress(OSError):
            f.rmdir()


# ------------------------------------------------------------------------------------------ identity
def _resolved(p: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.fspath(p)))


def _inode(p: Path) -> tuple[int, int] | None:
    try:
        st = p.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def check_not_input(out: str | os.PathLike[str], inputs: dict[str, str | os.PathLike[str]],
                    folder: bool = True, max_walk: int = 100_000) -> None:
    """Refuse an output that is, holds, or is a hard link of one of ``inputs`` (before any work).

    Parameters
    ----------
    out : path-like
        The output folder (``folder=True``) or file.
    inputs : dict
        Option name (for the message, e.g. ``"--x"``) -> an input path that exists.
    folder : bool
        Whether ``out`` is a folder (then an input inside it is refused too).
    max_walk : int
        Most files of an existing output folder compared with the inputs' inodes.

    Raises
    ------
    ValueError
        Naming the input and the output.
    """
    o = _resolved(out)
    files: dict[tuple[int, int], str] = {}
    for name, raw in inputs.items():
        i = _resolved(raw)
        if i == o:
            raise ValueError(f"--out {out} is also the input {name} {raw}: the output would "
                             "overwrite it; choose another --out")
        if folder and o in i.parents:
            raise ValueError(f"the input {name} {raw} lies inside the output folder --out {out}, "
                             "which is replaced by the new results; choose another --out or move "
                             "the input")
        ino = _inode(i)
        if ino is not None:
            files[ino] = f"{name} {raw}"
            if not folder and _inode(o) == ino:
                raise ValueError(f"--out {out} is a hard link of the input {name} {raw} (the same "
                                 "file): writing it would change the input; choose another --out")
    if folder and files and o.is_dir():
        for n, p in enumerate(o.rglob("*")):
            if n >= max_walk:
                break
            ino = _inode(p) if not p.is_symlink() else None
            if ino in files:
                raise ValueError(f"{p} in the output folder --out {out} is a hard link of the "
                                 f"input {files[ino]} (the same file): writing the report would "
                                 "change the input; choose another --out")


def _path_values(value: Any) -> list[str]:
    """The strings of an argparse value (a string or a list of strings)."""
    if isinstance(value, str | os.PathLike):
        return [os.fspath(value)]
    if isinstance(value, list | tuple):
        return [os.fspath(v) for v in value if isinstance(v, str | os.PathLike)]
    return []


def cli_inputs(args: Any, skip: Iterable[str] = ("out", "command", "func")) -> dict[str, str]:
    """Every option of a parsed command line that names an existing file or folder, by option name."""
    found: dict[str, str] = {}
    skipped = set(skip)
    for key, value in vars(args).items():
        if key in skipped or key.startswith("_"):
            continue
        for v in _path_values(value):
            if v and os.path.lexists(v):
                name = "--" + key.replace("_", "-")
                found[name if name not in found else f"{name} ({v})"] = v
    return found


LOCKED_COMMANDS = ("train", "audit", "curate", "improve", "compare", "embed")
"""Commands whose ``--out`` (a run or report folder, or a table) is locked while they run."""


@contextlib.contextmanager
def guard_command(args: Any) -> Iterator[None]:
    """The output guards of one command line: identity checks, then the lock of ``--out``.

    A parser marks a file output with ``set_defaults(out_kind="file")``; others are folders. Options
    that name further outputs (``improve --runs``) are listed in ``set_defaults(other_outputs=...)``
    and are not taken for inputs.
    """
    out = getattr(args, "out", None)
    if not out or not isinstance(out, str | os.PathLike):
        yield
        return
    folder = getattr(args, "out_kind", "folder") != "file"
    skip = ("out", "command", "func", *getattr(args, "other_outputs", ()))
    check_not_input(out, cli_inputs(args, skip), folder=folder)
    if getattr(args, "command", None) in LOCKED_COMMANDS:
        with output_lock(out):
            yield
    else:
        yield


# ----------------------------------------------------------------------------------- all at once
def _umask_dir_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o777 & ~mask


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with ``renameat2(RENAME_EXCHANGE)``; False where unavailable."""
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return rc == 0


def _carry_over(old: Path, new: Path) -> None:
    """Hard-link (or copy) into ``new`` every entry of ``old`` that ``new`` does not have."""
    for entry in old.iterdir():
        target = new / entry.name
        if entry.is_symlink():
            if not os.path.lexists(target):
                os.symlink(os.readlink(entry), target)
        elif entry.is_dir():
            if not target.exists():
                target.mkdir()
                shutil.copystat(entry, target)
            if target.is_dir() and not target.is_symlink():
                _carry_over(entry, target)
        elif not os.path.lexists(target):
            try:
                os.link(entry, target)
            except OSError:
                shutil.copy2(entry, target)


def _remap(obj: Any, old: Path, new: Path) -> Any:
    """``obj`` with every path under ``old`` rewritten under ``new`` (dicts, lists, paths)."""
    if isinstance(obj, dict):
        return {k: _remap(v, old, new) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_remap(v, old, new) for v in obj)
    if isinstance(obj, Path | str):
        try:
            moved = new / Path(obj).relative_to(old)
        except ValueError:
            return obj
        return moved if isinstance(obj, Path) else str(moved)
    return obj


def write_staged(out: str | os.PathLike[str], writer: Callable[[Path], Any]) -> Any:
    """Run ``writer(folder)`` on a temporary sibling of ``out``, then swap it in for ``out``.

    Parameters
    ----------
    out : path-like
        The report folder (created if missing).
    writer : callable
        Writes the report into the folder it is given; its return value (paths included) is
        returned with the temporary folder replaced by ``out``.

    Raises
    ------
    OSError
        When the report could not be written (a full disk): the message names the file and says
        that ``out`` was left as it was.
    """
    out = Path(out)
    parent = out.parent
    created = _make_parents(parent)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} exists and is not a folder")
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{out.name}.", suffix=".staging"))
    try:
        os.chmod(tmp, _umask_dir_mode())
        result = writer(tmp)
        if out.is_dir():
            _carry_over(out, tmp)
            if _exchange(tmp, out):
                if tmp.is_symlink():  # out was a link to a folder: the link is replaced, not followed
                    tmp.unlink()
                else:
                    shutil.rmtree(tmp, ignore_errors=True)
            else:
                old = Path(tempfile.mkdtemp(dir=parent, prefix=f".{out.name}.", suffix=".old"))
                os.rmdir(old)
                os.rename(out, old)
                os.rename(tmp, out)
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(created)
        name = exc.filename
        where = f" while writing {_remap(Path(name), tmp, out)}" if name else ""
        raise OSError(exc.errno, f"{exc.strerror or exc}{where}; the report folder {out} was left "
                      "as it was") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(created)
        raise
    return _remap(result, tmp, out)
