"""What the parent and the child say to each other (:mod:`~jaxrnn.solution._runner`,
:mod:`~jaxrnn.solution._child`): what a learner's code raised (:class:`Raised`), what loading
found (:class:`Loaded`), and the messages, length-prefixed pickles of which the parent reads
plain data and NumPy arrays only (the learner's code could have written them). It imports
nothing of jaxrnn's, so that the child can load it by its path.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
from dataclasses import dataclass, field

#: how an argument names an object the child kept: {KEPT: key, "index": [...]}
KEPT = "__jaxrnn_kept__"


@dataclass(frozen=True)
class Raised:
    """What a learner's code raised, or how it stopped.

    Attributes:
        kind: the exception's type (``"NameError"``), ``"TimeoutError"`` for a call that ran
            past its time, ``"SystemExit"``, or ``"ProcessExit"`` for a process that ended.
        message: the exception's message.
        frames: ``(file, line, function, source)`` of the frames in the learner's own files,
            innermost last.
        missing_module: for a ``ModuleNotFoundError``, the module.
    """

    kind: str
    message: str
    frames: tuple = ()
    missing_module: str | None = None

    @property
    def where(self) -> str:
        """The innermost frame in the learner's files, ``"file:line in function"``."""
        if not self.frames:
            return ""
        file, line, function, _ = self.frames[-1]
        if " [code cell " in file:
            path, cell = file.split(" [", 1)
            return f"{shown(path)}, {cell.rstrip(']')}, line {line}, in {function}"
        return f"{shown(file)}:{line} in {function}"

    @property
    def source(self) -> str:
        return self.frames[-1][3] if self.frames else ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}" if self.message else self.kind


class LearnerError(Exception):
    """A call into the learner's code that raised; ``raised`` says what and where."""

    def __init__(self, raised: Raised):
        super().__init__(str(raised))
        self.raised = raised


@dataclass(frozen=True)
class Loaded:
    """What reading a solution found.

    Attributes:
        functions: ``{name: "file:line"}``, where each function looked for was defined.
        errors: ``(where, Raised)`` for every cell or statement that raised and was skipped.
        output_lines: how many lines the learner's code printed while loading.
        unrun: ``{name: (where, Raised)}``: functions looked for that are defined in code which
            did not run (a cell that does not parse, or raised before defining them), and
            nowhere else.
        shadowed: ``{name: [where, ...]}``: functions defined in several of the files, each
            place but the last, whose definition wins.
        sources: ``{name: (first line, lines)}``: each function's own code, for the report
            to show beside the equations it computes.
    """

    functions: dict
    errors: list = field(default_factory=list)
    output_lines: int = 0
    unrun: dict = field(default_factory=dict)
    shadowed: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)


def shown(file: str) -> str:
    """A learner's file name as the report shows it: relative to here where it can be."""
    try:
        return os.path.relpath(file)
    except ValueError:
        return file


class NotSwapped(Exception):
    """A call asked to swap a function for another, whose code never called the one swapped
    in: it reaches the function some way the swap cannot follow."""


class NotASolution(Exception):
    """A file that cannot be read as a solution at all."""


def as_data(reply):
    """A reply as plain data, which the parent reads with a restricted unpickler."""
    kind, value = reply
    if isinstance(value, Loaded):
        errors = [(where, raised_data(r)) for where, r in value.errors]
        unrun = {n: (where, raised_data(r)) for n, (where, r) in value.unrun.items()}
        sources = {n: (first, list(lines)) for n, (first, lines) in value.sources.items()}
        value = {"functions": value.functions, "errors": errors, "unrun": unrun,
                 "shadowed": value.shadowed, "sources": sources}  # fmt: skip
    elif isinstance(value, Raised):
        value = raised_data(value)
    return kind, value


def raised_data(raised: Raised) -> dict:
    frames = [list(f) for f in raised.frames]
    return {"kind": raised.kind, "message": raised.message, "frames": frames,
            "missing_module": raised.missing_module}  # fmt: skip


def raised_from(data: dict) -> Raised:
    return Raised(data["kind"], data["message"], tuple(tuple(f) for f in data["frames"]),
                  data["missing_module"])  # fmt: skip


def send(stream, message) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(payload)) + payload)
    stream.flush()


def read_exactly(stream, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def receive(stream, trusted=False):
    """The next message, or ``None`` at the end. From the child, whose pickles the learner's
    code could have written, only plain data is unpickled."""
    head = read_exactly(stream, 8)
    if head is None:
        return None
    payload = read_exactly(stream, struct.unpack("<Q", head)[0])
    if payload is None:
        return None
    if trusted:
        return pickle.loads(payload)  # noqa: S301 - from the parent, jaxrnn itself
    return PlainUnpickler(io.BytesIO(payload)).load()


class PlainUnpickler(pickle.Unpickler):
    """Unpickles plain data and NumPy arrays only."""

    _ALLOWED = {
        ("builtins", n) for n in ("complex", "tuple", "list", "dict", "set", "frozenset", "slice")
    } | {
        (module, n)
        for module in ("numpy", "numpy.core.multiarray", "numpy._core.multiarray",
                       "numpy.core.numeric", "numpy._core.numeric")
        for n in ("ndarray", "dtype", "_reconstruct", "scalar", "_frombuffer")
    }  # fmt: skip

    def find_class(self, module, name):
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        if module.startswith("numpy.dtypes"):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"the solution's process sent {module}.{name}")
