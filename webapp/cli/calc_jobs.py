"""`quotaflow calc --jobs`: runs of reps calculated in forked processes, spliced in rep order."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

# Below this many deals a second process saves little (under a second; reading and crediting
# come first anyway), and one process is simpler to follow and to profile.
AUTO_MIN_DEALS = 50_000
AUTO_MAX_JOBS = 2  # each process copies the memory pages it reads (reference counts)
JOBS_ENV = "QUOTAFLOW_CALC_JOBS"
# The parent splices the output after its own run: it takes a little less than a child.
PARENT_SHARE, CHILD_SHARE = 10, 11


def jobs_asked(option: int | None) -> int | None:
    """The processes asked for: `--jobs`, else $QUOTAFLOW_CALC_JOBS, else None (by size)."""
    from webapp.cli import CliError

    text = os.environ.get(JOBS_ENV, "").strip()
    if option is not None or not text:
        return option
    if not text.isdigit() or int(text) < 1:
        raise CliError(f"{JOBS_ENV}: not a whole number of processes (1 or more): {text!r}")
    return int(text)


def jobs_wanted(asked: int | None, *, deals: int) -> int:
    """How many processes calculate: as asked, else two for a large book when two CPUs are
    free, else one; always one where processes cannot be forked."""
    if not hasattr(os, "fork"):
        return 1
    if asked is not None:
        return asked
    if deals < AUTO_MIN_DEALS:
        return 1
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(AUTO_MAX_JOBS, cpus or 1))


def shares(jobs: int) -> list[int]:
    """The share of the reps' work of each run: the parent's first, then each child's."""
    return [PARENT_SHARE] + [CHILD_SHARE] * (jobs - 1)


@dataclass(frozen=True, slots=True)
class RunFiles:
    """Where one run of reps writes its items of the `results` and `credits` lists."""

    results: IO[bytes]
    credits: IO[bytes]


def write_run(run: Iterable[tuple[Sequence[Any], Sequence[Any]]], files: RunFiles) -> None:
    """One run's results as each rep is calculated, then its credits (calc.render's items)."""
    from calc.render import credit_items, result_items

    held: list[Sequence[Any]] = []
    for results, credits in run:
        held.append(credits)
        text = result_items(results)
        if text:
            files.results.write(text.encode())
    for chunk in credit_items(held):
        files.credits.write(chunk.encode())
    files.results.flush()
    files.credits.flush()


def run_files(count: int) -> list[RunFiles]:
    """Unnamed temporary files, one pair per run: nothing is left behind by a process that dies."""
    return [
        RunFiles(tempfile.TemporaryFile("w+b"), tempfile.TemporaryFile("w+b")) for _ in range(count)
    ]


@dataclass(slots=True)
class _Worker:
    number: int
    pid: int
    status: int | None  # read end of the pipe the worker reports on, until it is closed


OK, FAILED = b"ok\n", b"error\n"


def run_forked(
    tasks: Sequence[Callable[[], None]],
    *,
    fork: Callable[[int, Callable[[], None]], _Worker] | None = None,
) -> None:
    """Run tasks[0] here and each other task in a forked process; return when all are done.

    A task that raises the CLI's error (`CliError`) in a worker has it raised here with the
    same text; when several fail, the first in task order wins (the error one process
    would have met first). A worker that dies, or fails otherwise, is a CliError naming it.
    A task whose process cannot be forked (no memory, too many processes) runs here, after
    the tasks before it. (`fork`: how a worker is started, `_fork` unless a test says.)
    """
    start = _fork if fork is None else fork
    workers: list[_Worker | Callable[[], None]] = []
    try:
        for number, task in enumerate(tasks[1:], start=2):
            try:
                workers.append(start(number, task))
            except OSError:
                workers.append(task)
        tasks[0]()
        for worker in workers:
            if isinstance(worker, _Worker):
                _finish(worker, len(tasks))
            else:
                worker()
    finally:
        for worker in workers:
            if isinstance(worker, _Worker):
                _stop(worker)


def _fork(number: int, task: Callable[[], None]) -> _Worker:
    from webapp.cli import CliError

    read, write = os.pipe()
    sys.stdout.flush()  # nothing buffered is written twice
    sys.stderr.flush()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        raise
    if pid:
        os.close(write)
        return _Worker(number, pid, read)
    # The worker: never returns into the caller's code, never writes to standard output.
    code = 70
    try:
        os.close(read)
        try:
            task()
            message, code = OK, 0
        except CliError as exc:
            message, code = FAILED + str(exc).encode(), 2
        except KeyboardInterrupt:  # Ctrl-C reaches every process of the group: no traceback
            message, code = FAILED + b"interrupted", 130
        except BaseException:
            text = traceback.format_exc()
            message = FAILED + f"worker {number} failed: {text.rstrip().splitlines()[-1]}".encode()
            sys.stderr.write(text)
            sys.stderr.flush()
        with open(write, "wb") as status:
            status.write(message)
    finally:
        os._exit(code)


def _finish(worker: _Worker, count: int) -> None:
    """Wait for a worker; raise its error, or a CliError naming how it ended without one."""
    from webapp.cli import CliError

    assert worker.status is not None
    fd, worker.status = worker.status, None
    with open(fd, "rb") as status:
        message = status.read()
    _pid, code = os.waitpid(worker.pid, 0)
    worker.pid = 0  # reaped
    if message == OK and code == 0:
        return
    if message.startswith(FAILED):
        raise CliError(message[len(FAILED) :].decode(errors="replace"))
    name = f"calculation worker {worker.number} of {count} (pid {_pid})"
    if os.WIFSIGNALED(code):
        how = f"was killed by signal {os.WTERMSIG(code)} ({signal.Signals(os.WTERMSIG(code)).name})"
    else:
        how = f"ended with status {os.waitstatus_to_exitcode(code)} without a result"
    raise CliError(f"{name} {how}; nothing was written")


def _stop(worker: _Worker) -> None:
    """Kill and reap a worker not waited for (this process failed first)."""
    if worker.status is not None:
        os.close(worker.status)
        worker.status = None
    if worker.pid:
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(worker.pid, signal.SIGKILL)
            os.waitpid(worker.pid, 0)
        worker.pid = 0


def splice(head: str, runs: Sequence[RunFiles], middle: str, tail: str) -> None:
    """The whole output to standard output: the head, every run's results as one list, the
    middle, every run's credits as one list, the tail (calc.render.list_chunks' bytes)."""
    out = _Stdout()
    out.write(head.encode())
    _list(out, [r.results for r in runs])
    out.write(middle.encode())
    _list(out, [r.credits for r in runs])
    out.write(tail.encode())
    out.flush()


def _list(out: _Stdout, files: Sequence[IO[bytes]]) -> None:
    from calc.render import EMPTY_LIST, LIST_CLOSE, LIST_OPEN

    opened = False
    for f in files:
        size = os.fstat(f.fileno()).st_size
        if not size:
            continue
        if opened:
            out.copy(f, 0, size)
        else:
            opened = True
            out.write(LIST_OPEN.encode())  # in place of the first item's comma
            out.copy(f, 1, size - 1)
    out.write((LIST_CLOSE if opened else EMPTY_LIST).encode())


class _Stdout:
    """Standard output taking bytes; files are copied by the kernel (sendfile) when it can."""

    def __init__(self) -> None:
        sys.stdout.flush()
        self.binary: IO[bytes] | None = getattr(sys.stdout, "buffer", None)
        self.fd: int | None = None
        if self.binary is not None:
            try:
                self.fd = self.binary.fileno()
            except (OSError, ValueError):  # io.UnsupportedOperation: a captured stream
                self.fd = None

    def write(self, data: bytes) -> None:
        if self.binary is None:
            sys.stdout.write(data.decode())
        else:
            self.binary.write(data)

    def copy(self, f: IO[bytes], offset: int, count: int) -> None:
        if self.fd is not None and hasattr(os, "sendfile"):
            assert self.binary is not None
            self.binary.flush()
            try:
                _sendfile(self.fd, f.fileno(), offset, count)
                return
            except _NoSendfile:
                self.fd = None
        f.seek(offset)
        for chunk in _blocks(f, count):
            self.write(chunk)

    def flush(self) -> None:
        (self.binary or sys.stdout).flush()


class _NoSendfile(Exception):
    """sendfile cannot write to this standard output (nothing was sent)."""


def _sendfile(out_fd: int, in_fd: int, offset: int, count: int) -> None:
    first = True
    while count > 0:
        try:
            sent = os.sendfile(out_fd, in_fd, offset, count)
        except OSError as exc:
            if first and exc.errno in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
                raise _NoSendfile from None
            raise
        if not sent:
            raise OSError(errno.EIO, "sendfile wrote nothing")
        first = False
        offset += sent
        count -= sent


def _blocks(f: IO[bytes], count: int) -> Iterator[bytes]:
    size = shutil.COPY_BUFSIZE if hasattr(shutil, "COPY_BUFSIZE") else 1 << 20
    while count > 0:
        block = f.read(min(size, count))
        if not block:
            return
        count -= len(block)
        yield block
