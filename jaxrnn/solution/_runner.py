"""The parent's side of a learner's solution: :class:`Worker` runs it in a child process
(:mod:`~jaxrnn.solution._child`) and calls its functions there, so that nothing the code does
(print, loop, exit, end its process) can stop the report; :class:`InProcess` calls the
functions of a namespace already in this process (a learner's ``globals()`` in their running
notebook), with what they print captured.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import pathlib
import select
import signal
import subprocess
import sys
import tempfile
import types

from jaxrnn.solution import _child as child
from jaxrnn.solution._protocol import (
    LearnerError,
    Loaded,
    NotASolution,
    NotSwapped,
    Raised,
    raised_data,
    raised_from,
    receive,
    send,
)


class Worker:
    """The learner's files in a child process, their functions called on request.

    Arguments:
        paths: the solution's files, ``.py`` and ``.ipynb``.
        names: the functions to look for.
        timeout: seconds each call may take; a call past it is interrupted where it runs (its
            frame reported), or, if it cannot be, its process ended and started anew.
        load_timeout: seconds each cell (or top-level statement) may take while loading.
    """

    def __init__(self, paths, names, timeout: float = 10.0, load_timeout: float = 30.0):
        self.paths = [str(pathlib.Path(p).resolve()) for p in paths]
        self.names, self.timeout, self.load_timeout = list(names), timeout, load_timeout
        self._output = tempfile.TemporaryFile()
        self._process = None
        self.loaded = self._start()

    def _start(self) -> Loaded:
        requests_read, requests_write = os.pipe()
        replies_read, replies_write = os.pipe()
        env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            [sys.executable, child.__file__, str(requests_read), str(replies_write)],
            stdin=subprocess.DEVNULL, stdout=self._output, stderr=subprocess.STDOUT,
            pass_fds=(requests_read, replies_write), env=env, start_new_session=True,
            cwd=str(pathlib.Path(self.paths[0]).parent),
        )  # fmt: skip
        os.close(requests_read)
        os.close(replies_write)
        self._requests = os.fdopen(requests_write, "wb")
        self._replies = os.fdopen(replies_read, "rb")
        payload = {"paths": self.paths, "names": self.names, "cell_timeout": self.load_timeout}
        # the whole load may take every cell's time; a cell that cannot be interrupted ends it
        kind, value = self._ask(("load", payload), self.load_timeout * 4 + 30)
        if kind == "unreadable":
            self.close()
            raise NotASolution(value)
        if kind != "loaded":
            self.close()
            raise NotASolution(f"the solution stopped while loading: {raised_from(value)}")
        errors = [(where, raised_from(r)) for where, r in value["errors"]]
        unrun = {n: (where, raised_from(r)) for n, (where, r) in value["unrun"].items()}
        sources = {name: (int(first), [str(line) for line in lines])
                   for name, (first, lines) in value["sources"].items()}  # fmt: skip
        return Loaded(value["functions"], errors, self.output().count("\n"), unrun,
                      value["shadowed"], sources)  # fmt: skip

    def _ask(self, message, timeout):
        try:
            send(self._requests, message)
            ready, _, _ = select.select([self._replies], [], [], timeout)
            reply = receive(self._replies) if ready else "late"
        except (BrokenPipeError, OSError):
            reply = None
        if reply == "late":
            self._end()
            late = f"still running after {timeout:g} s (the process was ended)"
            return "raised", raised_data(Raised("TimeoutError", late))
        if reply is None:
            code = self._end()
            return "raised", raised_data(Raised(
                "ProcessExit", f"the solution's process ended (exit status {code})"))  # fmt: skip
        return reply

    def call(self, name, *args, keep=None, substitute=None):
        """``name(*args)`` in the learner's code: its result as plain data, or
        :class:`LearnerError`; ``substitute``: ``{function: the reference's function}`` to
        swap for the call, or :class:`NotSwapped`."""
        if self._process is None:  # ended by the last call: loaded anew
            self._start()
        payload = {"name": name, "args": list(args), "keep": keep, "substitute": substitute,
                   "timeout": self.timeout}  # fmt: skip
        kind, value = self._ask(("call", payload), self.timeout + 5)
        if kind == "raised":
            raise LearnerError(raised_from(value))
        if kind == "not swapped":
            raise NotSwapped(value)
        return value

    def output(self) -> str:
        """What the learner's code printed, so far."""
        self._output.flush()
        self._output.seek(0)
        text = self._output.read().decode("utf-8", "replace")
        self._output.seek(0, os.SEEK_END)
        return text

    def _end(self):
        code = None
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)
            code = self._process.wait()
            for stream in (self._requests, self._replies):
                with contextlib.suppress(OSError):
                    stream.close()
        self._process = None
        return code

    def close(self):
        self._end()
        self._output.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class InProcess:
    """The functions of a namespace in this process (a learner's ``globals()``, a module),
    called as :class:`Worker` calls them; what they print is captured."""

    def __init__(self, namespace, names, timeout: float = 10.0):
        if isinstance(namespace, types.ModuleType):
            namespace = vars(namespace)
        self._solution = child.Solution([], names, None)
        self._solution.functions = {n: namespace[n] for n in names if callable(namespace.get(n))}
        # the learner's modules: those beside their functions' files, or in the working folder
        files = [getattr(getattr(f, "__code__", None), "co_filename", "")
                 for f in self._solution.functions.values()]  # fmt: skip
        self._solution.folders = {os.getcwd(), *(os.path.dirname(os.path.abspath(f))
                                                 for f in files if os.path.isfile(f))}  # fmt: skip
        self.timeout = timeout
        self._printed = io.StringIO()
        functions = {n: child.defined_at(f) for n, f in self._solution.functions.items()}
        sources = {n: s for n, f in self._solution.functions.items()
                   if (s := child.source_of(f)) is not None}  # fmt: skip
        self.loaded = Loaded(functions, [], sources=sources)

    def call(self, name, *args, keep=None, substitute=None):
        files = {f.__code__.co_filename for f in self._solution.functions.values()
                 if hasattr(f, "__code__")}  # fmt: skip
        args = copy.deepcopy(args)  # theirs may write into what they are given
        try:
            with (
                contextlib.redirect_stdout(self._printed),
                contextlib.redirect_stderr(self._printed),
            ):
                timeout = self.timeout if in_main_thread() else None
                return self._solution.call(name, args, keep, substitute, timeout)
        except (NotSwapped, KeyboardInterrupt):  # Ctrl-C in this process stops the check
            raise
        except BaseException as error:  # noqa: BLE001 - the learner's
            raise LearnerError(child.as_raised(error, files)) from None

    def output(self) -> str:
        return self._printed.getvalue()

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
