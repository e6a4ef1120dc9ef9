"""A learner's solution, in a room of its own: their files read and run, their functions
called on request, any of them swapped for another function on request. It knows nothing
of gradients.

``jaxrnn check FILE`` runs the learner's code as they wrote it, which is what they ask for:

* a ``.py`` is imported with its folder first on the path, its top-level statements one at a
  time, so that one that raises (a missing ``public_tests``, a test call) is reported and the
  rest still runs; modules of the solution that import each other are loaded the same way;
* a notebook's code cells run in order in one namespace (nbformat 4, or 3), IPython's syntax
  (``%magic``, ``!shell``, ``name?``) turned into Python by IPython's own transformer where it
  is installed, else told from Python by the tokenizer: magics and shell lines do nothing,
  ``%time``/``%%time``-like ones run their Python; a cell that raises is reported (its
  number, the error) and skipped;
* a file is read as Python reads it: a BOM or a PEP 263 ``# -*- coding: ... -*-`` line is
  honoured;
* a function of the names asked for that is defined in code which did not run (a cell that
  does not parse, or raised before its ``def``) is reported as such (:attr:`Loaded.unrun`);
* a folder without the documents' ``rnn_utils`` gets jaxrnn's copy (last on the path);
* the documents' functions are found by their names, the last definition winning.

The functions are then called with plain NumPy arguments, never traced, their results
converted to plain data (arrays, tuples, lists, dictionaries). :class:`Worker` does it all in a
child process, which imports nothing but this file and what the learner's code imports: what
the code prints goes to a file of its own, and a call that runs past its time, calls
``sys.exit`` or ends the process is reported as such, never the end of the report.
:class:`InProcess` calls the functions of a namespace already in this process (a learner's
``globals()`` in their running notebook), with what they print captured.

Run as a script (``python learner.py REQUESTS REPLIES``) this file is the child.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import importlib.abc
import importlib.machinery
import importlib.util
import io
import json
import linecache
import os
import pathlib
import pickle
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import tokenize
import traceback
import types
from dataclasses import dataclass, field

import numpy as np

#: jaxrnn's copy of the documents' helper module, for folders that have none
FALLBACK = str(pathlib.Path(__file__).with_name("fallback"))
#: the independent NumPy reference, whose cell functions stand in for a learner's on request
REFERENCE = str(pathlib.Path(__file__).parents[1] / "course" / "reference.py")
#: cell magics whose body is Python, run without their first line
PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture", "%%prun")
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
            return f"{_shown(path)}, {cell.rstrip(']')}, line {line}, in {function}"
        return f"{_shown(file)}:{line} in {function}"

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
        problems: ``(where, Raised)`` for every cell or statement that raised and was skipped.
        output_lines: how many lines the learner's code printed while loading.
        unrun: ``{name: (where, Raised)}``: functions looked for that are defined in code which
            did not run (a cell that does not parse, or raised before defining them), and
            nowhere else.
        shadowed: ``{name: [where, ...]}``: functions defined in several of the files, each
            place but the last, whose definition wins.
    """

    functions: dict
    problems: list = field(default_factory=list)
    output_lines: int = 0
    unrun: dict = field(default_factory=dict)
    shadowed: dict = field(default_factory=dict)


def _shown(file: str) -> str:
    """A learner's file name as the report shows it: relative to here where it can be."""
    try:
        return os.path.relpath(file)
    except ValueError:
        return file


# ----------------------------------------------------------------------------- the child side


class NotSwapped(Exception):
    """A call asked to swap a function for another, whose code never called the one swapped
    in: it reaches the function some way the swap cannot follow."""


class _TimeUp(BaseException):
    """Raised inside the learner's code when its time runs out (not an ``Exception``, so that
    their ``except Exception`` does not swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds: float | None):
    """Interrupt the code inside after ``seconds`` (in the main thread, where signals go)."""
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise _TimeUp(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _raised(error: BaseException, files) -> Raised:
    """The error as :class:`Raised`, keeping the frames in the learner's ``files``."""
    frames = tuple(
        (f.filename, f.lineno, f.name, (f.line or "").strip())
        for f in traceback.extract_tb(error.__traceback__)
        if _is_theirs(f.filename, files)
    )
    if isinstance(error, _TimeUp):
        return Raised("TimeoutError", str(error), frames)
    if isinstance(error, SystemExit):
        return Raised("SystemExit", f"the code called sys.exit({error.code!r})", frames)
    missing = error.name if isinstance(error, ModuleNotFoundError) else None
    return Raised(type(error).__name__, str(error), frames, missing)


def _is_theirs(filename: str, files) -> bool:
    """Whether a frame's file is the learner's: one of theirs, a notebook cell of one, or
    another module in their folders (``from correct import ...``)."""
    folders = {os.path.dirname(f) for f in files}
    return any(filename == f or filename.startswith(f + " [") for f in files) or (
        os.path.dirname(filename) in folders and filename != __file__
    )


def _plain(value, memo=None):
    """The learner's result as plain data: arrays (anything array-like), numbers, strings,
    ``None``, tuples, lists and dictionaries of them; anything else as a description."""
    memo = {} if memo is None else memo
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, np.ndarray):
        result = np.array(value)  # a copy, of the base class
    elif isinstance(value, np.generic):
        result = np.asarray(value)
    elif value is None or isinstance(value, (bool, int, float, complex, str)):
        result = value
    elif isinstance(value, dict):
        result = {}
        memo[id(value)] = result
        for k, v in value.items():
            result[k if isinstance(k, str) else repr(k)] = _plain(v, memo)
        return result
    elif isinstance(value, (tuple, list)):
        items = [_plain(v, memo) for v in value]
        result = tuple(items) if isinstance(value, tuple) else items
    elif hasattr(value, "__array__"):
        try:
            result = np.array(value)
        except Exception:  # noqa: BLE001 - described instead
            result = {"__opaque__": type(value).__name__, "repr": repr(value)[:200]}
    else:
        result = {"__opaque__": type(value).__name__, "repr": repr(value)[:200]}
    memo[id(value)] = result
    return result


class _Solution:
    """The learner's files, loaded into one namespace, in the child (or in this process)."""

    def __init__(self, paths, names, cell_timeout):
        self.paths = [str(pathlib.Path(p).resolve()) for p in paths]
        self.names, self.cell_timeout = names, cell_timeout
        self.problems: list = []
        self.functions: dict = {}
        self.kept: dict = {}
        self._reference = None
        self.folders = {os.path.dirname(p) for p in self.paths}
        #: (where, source, Raised) of every cell, file or statement that did not run
        self._not_run: list = []

    # loading

    def load(self) -> Loaded:
        folders = list(dict.fromkeys(str(pathlib.Path(p).parent) for p in self.paths))
        sys.path[:0] = [f for f in folders if f not in sys.path]
        sys.path.append(FALLBACK)
        modules = {pathlib.Path(p).stem: p for p in self.paths if p.endswith(".py")}
        finder = _ModuleFinder(self, modules)
        sys.meta_path.insert(0, finder)
        found, places = {}, {}
        for path in self.paths:
            if path.endswith(".ipynb"):
                namespace = self._run_notebook(path)
            else:
                namespace = finder.module(pathlib.Path(path).stem).__dict__
            for name in self.names:
                if callable(namespace.get(name)):
                    found[name] = namespace[name]
                    places.setdefault(name, []).append(_defined_at(namespace[name]))
        self.functions = found
        unrun = {}
        for where, source, raised in self._not_run:
            for name in _defined_names(source, self.names):
                if name not in found:
                    unrun.setdefault(name, (where, raised))
        shadowed = {n: list(dict.fromkeys(p))[:-1] for n, p in places.items()
                    if len(set(p)) > 1}  # fmt: skip
        return Loaded({n: _defined_at(f) for n, f in found.items()}, self.problems, 0, unrun,
                      shadowed)  # fmt: skip

    def run_statements(self, path: str, source: bytes, namespace: dict):
        """A ``.py`` run one top-level statement at a time, as notebook cells are; ``source``
        the file's bytes, decoded as Python decodes them (a BOM, a PEP 263 line)."""
        try:
            tree = ast.parse(source, path)
        except (SyntaxError, ValueError) as error:  # ValueError: bytes its coding cannot decode
            raised = _raised(error, [path])
            self.problems.append((_shown(path), raised))
            self._not_run.append((_shown(path), _text(source), raised))
            return
        lines = _text(source).splitlines(True)
        for statement in tree.body:
            module = ast.Module(body=[statement], type_ignores=[])
            where = f"{_shown(path)}:{statement.lineno}"
            text = "".join(lines[statement.lineno - 1 : statement.end_lineno])
            self._execute(compile(module, path, "exec", dont_inherit=True), namespace, where,
                          [path], text)  # fmt: skip

    def _run_notebook(self, path: str) -> dict:
        namespace = {"__name__": "__main__", "__file__": path}
        namespace["get_ipython"] = lambda: _Shell(namespace)
        namespace["display"] = lambda *objects, **options: None  # IPython's, in a notebook
        for number, source in enumerate(_code_cells(path), 1):
            python = _python_of(source)
            if python is None:
                continue  # a cell in another language (%%bash, %%html...)
            name = f"{path} [code cell {number}]"
            linecache.cache[name] = (len(python), None, python.splitlines(True), name)
            where = f"{_shown(path)}, code cell {number}"
            try:
                compiled = compile(python, name, "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as error:  # ValueError: a null byte
                raised = _raised(error, [path])
                self.problems.append((where, raised))
                self._not_run.append((where, source, raised))
                continue
            self._execute(compiled, namespace, where, [path], source)
        return namespace

    def _execute(self, code, namespace, where, files, source):
        try:
            with _time_limit(self.cell_timeout):
                exec(code, namespace)  # noqa: S102 - the learner's own code, as they asked
        except BaseException as error:  # noqa: BLE001 - the learner's: reported, skipped
            raised = _raised(error, files)
            self.problems.append((where, raised))
            self._not_run.append((where, source, raised))

    # calling

    def call(self, name, args, keep=None, substitute=None, timeout=None):
        """``name(*args)``; ``substitute``: ``{function name: the reference's function name}``,
        each of the learner's functions replaced by the reference's for the call, wherever the
        function called can reach it by name (see :func:`_swapped`)."""
        function = self.functions[name]
        args = [self._resolved(a) for a in args]
        calls = {target: 0 for target in substitute or {}}
        with contextlib.ExitStack() as stack:
            for target, reference_name in (substitute or {}).items():
                stand_in = self._counted(calls, target, getattr(self.reference, reference_name))
                stack.enter_context(_swapped(function, target, self.functions.get(target),
                                             stand_in, self.folders))  # fmt: skip
            with _time_limit(timeout):
                result = function(*args)
        missed = [target for target, count in calls.items() if not count]
        if missed:
            raise NotSwapped(
                f"{name} never called it: it reaches its {', '.join(missed)} some way a swap "
                f"cannot follow (a default argument, a closure, an object's attribute)"
            )
        if keep is not None:
            self.kept[keep] = result
        return _plain(result)

    @staticmethod
    def _counted(calls: dict, target: str, function):
        def stand_in(*args, **kwargs):
            calls[target] += 1
            return function(*args, **kwargs)

        stand_in.__name__ = target
        return stand_in

    def _resolved(self, argument):
        """An argument, or a copy of the kept object it names (so that a call that writes
        into its arguments cannot change what a later call gets)."""
        if isinstance(argument, dict) and KEPT in argument:
            value = self.kept[argument[KEPT]]
            for i in argument.get("index", ()):
                value = value[i]
            return copy.deepcopy(value)
        return argument

    @property
    def reference(self):
        if self._reference is None:
            spec = importlib.util.spec_from_file_location("_jaxrnn_numpy_reference", REFERENCE)
            self._reference = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = self._reference  # its dataclasses look themselves up there
            spec.loader.exec_module(self._reference)
        return self._reference


@contextlib.contextmanager
def _swapped(function, target: str, theirs, stand_in, folders=()):
    """``stand_in`` in place of the learner's function ``target`` (``theirs``) for as long as
    the block runs, everywhere ``function`` can reach it by name: ``target`` in its globals,
    any other global name bound to ``theirs`` (``from cells import f as g``), and the
    attributes of the modules among its globals bound to ``theirs`` or named ``target`` in
    a module of the learner's, one in ``folders`` (``cells.f(...)``)."""
    namespace = function.__globals__
    places = [(namespace, target)]
    if theirs is not None:
        places += [(namespace, k) for k, v in list(namespace.items()) if v is theirs]
    for module in [v for v in list(namespace.values()) if isinstance(v, types.ModuleType)]:
        for k, v in list(vars(module).items()):
            if (theirs is not None and v is theirs) or (
                k == target and callable(v) and _is_learners_module(module, folders)
            ):  # fmt: skip
                places.append((vars(module), k))
    saved = [(space, key, space.get(key, _ABSENT)) for space, key in places]
    try:
        for space, key, _ in saved:
            space[key] = stand_in
        yield
    finally:
        for space, key, previous in reversed(saved):
            if previous is _ABSENT:
                space.pop(key, None)
            else:
                space[key] = previous


def _is_learners_module(module, folders) -> bool:
    """A module of the learner's: one in their folders (not the standard library's, not
    jaxrnn's, not the fallback ``rnn_utils``)."""
    file = getattr(module, "__file__", None)
    return file is not None and os.path.dirname(os.path.abspath(file)) in folders


class _Shell:
    """What IPython's transformed lines call (``get_ipython().run_line_magic(...)``): the
    magics whose body is Python run it (``%time``, ``%%time``, ``%%capture``...); the rest,
    shell commands included, do nothing."""

    def __init__(self, namespace):
        self.namespace = namespace

    def run_line_magic(self, name, line, _stack_depth=1):
        if name == "time":
            exec(compile(line, "<%time>", "exec"), self.namespace)  # noqa: S102 - theirs

    def run_cell_magic(self, name, line, body):
        if f"%%{name}" in PYTHON_CELL_MAGICS:
            exec(compile(body, "<cell magic>", "exec"), self.namespace)  # noqa: S102 - theirs

    def system(self, command):
        return None

    def getoutput(self, command):
        return []


_ABSENT = object()


class NotASolution(Exception):
    """A file that cannot be read as a solution at all."""


def _text(source: bytes) -> str:
    """A file's bytes as text, decoded as Python decodes them, undecodable bytes replaced."""
    try:
        return importlib.util.decode_source(source)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return source.decode("utf-8", "replace")


#: a function's definition, found in code that may not parse
_DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(", re.MULTILINE)


def _defined_names(source: str, names) -> list[str]:
    """The names of ``names`` that ``source`` defines with ``def``, read as text."""
    return [n for n in dict.fromkeys(_DEF.findall(source)) if n in names]


def _code_cells(path: str) -> list[str]:
    """A notebook's code cells' sources: nbformat 4 (``cells``) or 3 (``worksheets``)."""
    try:
        data = json.loads(pathlib.Path(path).read_bytes().decode("utf-8-sig"))
    except (OSError, ValueError) as error:
        raise NotASolution(f"{_shown(path)} is not a notebook jaxrnn can read: {error}") from None
    if isinstance(data, dict) and isinstance(data.get("cells"), list):
        cells, key = data["cells"], "source"
    elif isinstance(data, dict) and isinstance(data.get("worksheets"), list):
        cells = [c for w in data["worksheets"] if isinstance(w, dict)
                 for c in w.get("cells", [])]  # fmt: skip
        key = "input"
    else:
        raise NotASolution(
            f"{_shown(path)} is not a notebook jaxrnn can read: JSON without the cells of "
            f"nbformat 4 or the worksheets of nbformat 3"
        )
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get(key, "")
            sources.append("".join(source) if isinstance(source, list) else str(source))
    return sources


#: a line IPython reads and Python does not: a magic, a shell command, help (``f?``)
_IPYTHON_LINE = re.compile(r"^\s*([%!?]|[\w.]+\?{1,2}\s*$|[\w., ]+=\s*[%!])")


def _python_of(source: str, ipython: bool = True) -> str | None:
    """A notebook cell's Python, or ``None`` for a cell whose magic makes it another language
    (``%%bash``). IPython's syntax becomes calls of ``get_ipython()`` (:class:`_Shell`): by
    IPython's own transformer where IPython is installed (and ``ipython``), else by
    :func:`_without_ipython`."""
    lines = source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].strip().startswith("%%"):
        if not lines[first].strip().startswith(PYTHON_CELL_MAGICS):
            return None
        # its body is the cell's Python: blank the magic's line, keeping the line numbers
        lines = [*lines[:first], "", *lines[first + 1 :]]
    if not any(_IPYTHON_LINE.match(line) for line in lines):
        return "\n".join(lines) + "\n"
    if ipython:
        try:
            from IPython.core.inputtransformer2 import TransformerManager
        except ImportError:
            pass
        else:
            return TransformerManager().transform_cell("\n".join(lines) + "\n")
    return _without_ipython(lines)


def _without_ipython(lines: list[str]) -> str:
    """IPython's syntax left out, where IPython is not installed: a line that starts a
    statement with ``%``, ``!`` or ``?`` (a line continuing an expression, ``    % n_a)``, is
    Python), or asks for help (``np.dot?``), becomes ``pass`` (``%time`` keeps its
    statement); ``x = !ls`` becomes ``x = []``."""
    kept = []
    for line in lines:
        indent = line[: len(line) - len(line.lstrip())]
        stripped = line.strip()
        if _IPYTHON_LINE.match(line) and not _continues(kept):
            if stripped.startswith("%time "):
                line = indent + stripped.removeprefix("%time ").strip()
            elif "=" in stripped and not stripped.startswith(("%", "!", "?")):
                line = indent + stripped.split("=", 1)[0].strip() + " = []"
            else:
                line = indent + "pass"
        kept.append(line)
    return "\n".join(kept) + "\n"


def _continues(lines: list[str]) -> bool:
    """Whether the code so far ends inside a statement: an open bracket, or a backslash."""
    if lines and lines[-1].rstrip().endswith("\\"):
        return True
    text = "\n".join(lines) + "\n"
    try:
        for _ in tokenize.generate_tokens(io.StringIO(text).readline):
            pass
    except tokenize.TokenError:
        return True
    except (SyntaxError, IndentationError):
        return False
    return False


def _defined_at(function) -> str:
    code = getattr(function, "__code__", None)
    if code is None:
        return "?"
    file = code.co_filename
    if " [code cell " in file:
        path, cell = file.split(" [", 1)
        return f"{_shown(path)}, {cell.rstrip(']')}, line {code.co_firstlineno}"
    return f"{_shown(file)}:{code.co_firstlineno}"


class _ModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the solution's own modules with :meth:`_Solution.run_statements`."""

    def __init__(self, solution: _Solution, modules: dict):
        self.solution, self.modules = solution, modules

    def find_spec(self, name, path=None, target=None):
        if name not in self.modules:
            return None
        return importlib.machinery.ModuleSpec(name, self, origin=self.modules[name])

    def module(self, name: str) -> types.ModuleType:
        """The solution's module ``name``, loaded once (an import by another of its modules
        may have loaded it), even where a module of that name was imported before."""
        loaded = sys.modules.get(name)
        if loaded is not None and getattr(loaded.__spec__, "loader", None) is self:
            return loaded
        module = importlib.util.module_from_spec(self.find_spec(name))
        sys.modules[name] = module
        self.exec_module(module)
        return module

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        path = module.__spec__.origin
        module.__file__ = path
        self.solution.run_statements(path, pathlib.Path(path).read_bytes(), module.__dict__)


def _serve(requests, replies):
    """The child's loop: a request in, a reply out, until the parent closes the pipe."""
    solution = None
    while True:
        message = _receive(requests, trusted=True)
        if message is None:
            return
        kind, payload = message
        try:
            if kind == "load":
                solution = _Solution(payload["paths"], payload["names"], payload["cell_timeout"])
                reply = ("loaded", solution.load())
            else:
                reply = ("ok", solution.call(**payload))
        except NotASolution as error:
            reply = ("unreadable", str(error))
        except NotSwapped as error:
            reply = ("not swapped", str(error))
        except BaseException as error:  # noqa: BLE001 - the learner's, KeyboardInterrupt too
            reply = ("raised", _raised(error, solution.paths if solution else []))
        sys.stdout.flush()
        _send(replies, _as_data(reply))


def _as_data(reply):
    """A reply as plain data, which the parent reads with a restricted unpickler."""
    kind, value = reply
    if isinstance(value, Loaded):
        problems = [(where, _raised_data(r)) for where, r in value.problems]
        unrun = {n: (where, _raised_data(r)) for n, (where, r) in value.unrun.items()}
        value = {"functions": value.functions, "problems": problems, "unrun": unrun,
                 "shadowed": value.shadowed}  # fmt: skip
    elif isinstance(value, Raised):
        value = _raised_data(value)
    return kind, value


def _raised_data(raised: Raised) -> dict:
    frames = [list(f) for f in raised.frames]
    return {"kind": raised.kind, "message": raised.message, "frames": frames,
            "missing_module": raised.missing_module}  # fmt: skip


def _raised_from(data: dict) -> Raised:
    return Raised(data["kind"], data["message"], tuple(tuple(f) for f in data["frames"]),
                  data["missing_module"])  # fmt: skip


# ------------------------------------------------------------------------ messages, both sides


def _send(stream, message) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(struct.pack("<Q", len(payload)) + payload)
    stream.flush()


def _read_exactly(stream, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _receive(stream, trusted=False):
    """The next message, or ``None`` at the end. From the child, whose pickles the learner's
    code could have written, only plain data is unpickled."""
    head = _read_exactly(stream, 8)
    if head is None:
        return None
    payload = _read_exactly(stream, struct.unpack("<Q", head)[0])
    if payload is None:
        return None
    if trusted:
        return pickle.loads(payload)  # noqa: S301 - from the parent, jaxrnn itself
    return _PlainUnpickler(io.BytesIO(payload)).load()


class _PlainUnpickler(pickle.Unpickler):
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


# ---------------------------------------------------------------------------- the parent side


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
            [sys.executable, __file__, str(requests_read), str(replies_write)],
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
            raise NotASolution(f"the solution stopped while loading: {_raised_from(value)}")
        problems = [(where, _raised_from(r)) for where, r in value["problems"]]
        unrun = {n: (where, _raised_from(r)) for n, (where, r) in value["unrun"].items()}
        return Loaded(value["functions"], problems, self.output().count("\n"), unrun,
                      value["shadowed"])  # fmt: skip

    def _ask(self, message, timeout):
        try:
            _send(self._requests, message)
            ready, _, _ = select.select([self._replies], [], [], timeout)
            reply = _receive(self._replies) if ready else "late"
        except (BrokenPipeError, OSError):
            reply = None
        if reply == "late":
            self._end()
            late = f"still running after {timeout:g} s (the process was ended)"
            return "raised", _raised_data(Raised("TimeoutError", late))
        if reply is None:
            code = self._end()
            return "raised", _raised_data(Raised(
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
            raise LearnerError(_raised_from(value))
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
        self._solution = _Solution([], names, None)
        self._solution.functions = {n: namespace[n] for n in names if callable(namespace.get(n))}
        # the learner's modules: those beside their functions' files, or in the working folder
        files = [getattr(getattr(f, "__code__", None), "co_filename", "")
                 for f in self._solution.functions.values()]  # fmt: skip
        self._solution.folders = {os.getcwd(), *(os.path.dirname(os.path.abspath(f))
                                                 for f in files if os.path.isfile(f))}  # fmt: skip
        self.timeout = timeout
        self._printed = io.StringIO()
        functions = {n: _defined_at(f) for n, f in self._solution.functions.items()}
        self.loaded = Loaded(functions, [])

    def call(self, name, *args, keep=None, substitute=None):
        files = {f.__code__.co_filename for f in self._solution.functions.values()
                 if hasattr(f, "__code__")}  # fmt: skip
        args = copy.deepcopy(args)  # theirs may write into what they are given
        try:
            with (
                contextlib.redirect_stdout(self._printed),
                contextlib.redirect_stderr(self._printed),
            ):
                timeout = self.timeout if _in_main_thread() else None
                return self._solution.call(name, args, keep, substitute, timeout)
        except (NotSwapped, KeyboardInterrupt):  # Ctrl-C in this process stops the check
            raise
        except BaseException as error:  # noqa: BLE001 - the learner's
            raise LearnerError(_raised(error, files)) from None

    def output(self) -> str:
        return self._printed.getvalue()

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        pass


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    # the child: its own folder off the path (the learner's modules come first)
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(__file__)]
    _serve(os.fdopen(int(sys.argv[1]), "rb"), os.fdopen(int(sys.argv[2]), "wb"))
