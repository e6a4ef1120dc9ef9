"""The child: a learner's solution in a process of its own, their files read and run, their
functions called on request, any of them swapped for another function on request. It knows
nothing of gradients.

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
  does not parse, or raised before its ``def``) is reported as such (``Loaded.unrun``);
* a folder without the documents' ``rnn_utils`` gets jaxrnn's copy (last on the path);
* the documents' functions are found by their names, the last definition winning.

The functions are then called with plain NumPy arguments, never traced, their results
converted to plain data (arrays, tuples, lists, dictionaries). Run as a script (``python
_child.py REQUESTS REPLIES``) this file is the child process, which imports nothing of
jaxrnn's but its sibling :mod:`~jaxrnn.solution._protocol`, and what the learner's code
imports; :class:`~jaxrnn.solution._runner.InProcess` uses its :class:`Solution` in this
process.
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
import re
import signal
import sys
import tokenize
import traceback
import types

import numpy as np

if __package__:
    from jaxrnn.solution import _protocol as protocol
else:  # the child process's script: its sibling by its path, and nothing else of jaxrnn's
    _spec = importlib.util.spec_from_file_location(
        "jaxrnn_solution_protocol", pathlib.Path(__file__).with_name("_protocol.py")
    )
    protocol = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = protocol  # its dataclasses look themselves up there
    _spec.loader.exec_module(protocol)

#: jaxrnn's copy of the documents' helper module, for folders that have none
FALLBACK = str(pathlib.Path(__file__).with_name("_fallback"))
#: the independent NumPy reference, whose cell functions stand in for a learner's on request
REFERENCE = str(pathlib.Path(__file__).parents[1] / "course" / "reference.py")
#: cell magics whose body is Python, run without their first line
PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture", "%%prun")


class TimeUp(BaseException):
    """Raised inside the learner's code when its time runs out (not an ``Exception``, so that
    their ``except Exception`` does not swallow it)."""


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Interrupt the code inside after ``seconds`` (in the main thread, where signals go)."""
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise TimeUp(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def as_raised(error: BaseException, files) -> protocol.Raised:
    """The error as a ``Raised``, keeping the frames in the learner's ``files``."""
    frames = tuple(
        (f.filename, f.lineno, f.name, (f.line or "").strip())
        for f in traceback.extract_tb(error.__traceback__)
        if is_theirs(f.filename, files)
    )
    if isinstance(error, TimeUp):
        return protocol.Raised("TimeoutError", str(error), frames)
    if isinstance(error, SystemExit):
        return protocol.Raised("SystemExit", f"the code called sys.exit({error.code!r})", frames)
    missing = error.name if isinstance(error, ModuleNotFoundError) else None
    return protocol.Raised(type(error).__name__, str(error), frames, missing)


def is_theirs(filename: str, files) -> bool:
    """Whether a frame's file is the learner's: one of theirs, a notebook cell of one, or
    another module in their folders (``from correct import ...``)."""
    folders = {os.path.dirname(f) for f in files}
    return any(filename == f or filename.startswith(f + " [") for f in files) or (
        os.path.dirname(filename) in folders and filename != __file__
    )


def plain(value, memo=None):
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
            result[k if isinstance(k, str) else repr(k)] = plain(v, memo)
        return result
    elif isinstance(value, (tuple, list)):
        items = [plain(v, memo) for v in value]
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


class Solution:
    """The learner's files, loaded into one namespace, in the child (or in this process)."""

    def __init__(self, paths, names, cell_timeout):
        self.paths = [str(pathlib.Path(p).resolve()) for p in paths]
        self.names, self.cell_timeout = names, cell_timeout
        self.errors: list = []
        self.functions: dict = {}
        self.kept: dict = {}
        self._reference = None
        self.folders = {os.path.dirname(p) for p in self.paths}
        #: (where, source, Raised) of every cell, file or statement that did not run
        self._not_run: list = []

    # loading

    def load(self) -> protocol.Loaded:
        folders = list(dict.fromkeys(str(pathlib.Path(p).parent) for p in self.paths))
        sys.path[:0] = [f for f in folders if f not in sys.path]
        sys.path.append(FALLBACK)
        modules = {pathlib.Path(p).stem: p for p in self.paths if p.endswith(".py")}
        finder = ModuleFinder(self, modules)
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
                    places.setdefault(name, []).append(defined_at(namespace[name]))
        self.functions = found
        unrun = {}
        for where, source, raised in self._not_run:
            for name in defined_names(source, self.names):
                if name not in found:
                    unrun.setdefault(name, (where, raised))
        shadowed = {n: list(dict.fromkeys(p))[:-1] for n, p in places.items()
                    if len(set(p)) > 1}  # fmt: skip
        functions = {n: defined_at(f) for n, f in found.items()}
        sources = {n: s for n, f in found.items() if (s := source_of(f)) is not None}
        return protocol.Loaded(functions, self.errors, 0, unrun, shadowed, sources)

    def run_statements(self, path: str, source: bytes, namespace: dict):
        """A ``.py`` run one top-level statement at a time, as notebook cells are; ``source``
        the file's bytes, decoded as Python decodes them (a BOM, a PEP 263 line)."""
        try:
            tree = ast.parse(source, path)
        except (SyntaxError, ValueError) as error:  # ValueError: bytes its coding cannot decode
            raised = as_raised(error, [path])
            self.errors.append((protocol.shown(path), raised))
            self._not_run.append((protocol.shown(path), text_of(source), raised))
            return
        lines = text_of(source).splitlines(True)
        for statement in tree.body:
            module = ast.Module(body=[statement], type_ignores=[])
            where = f"{protocol.shown(path)}:{statement.lineno}"
            text = "".join(lines[statement.lineno - 1 : statement.end_lineno])
            self._execute(compile(module, path, "exec", dont_inherit=True), namespace, where,
                          [path], text)  # fmt: skip

    def _run_notebook(self, path: str) -> dict:
        namespace = {"__name__": "__main__", "__file__": path}
        namespace["get_ipython"] = lambda: Shell(namespace)
        namespace["display"] = lambda *objects, **options: None  # IPython's, in a notebook
        for number, source in enumerate(code_cells(path), 1):
            python = python_of(source)
            if python is None:
                continue  # a cell in another language (%%bash, %%html...)
            name = f"{path} [code cell {number}]"
            linecache.cache[name] = (len(python), None, python.splitlines(True), name)
            where = f"{protocol.shown(path)}, code cell {number}"
            try:
                compiled = compile(python, name, "exec", dont_inherit=True)
            except (SyntaxError, ValueError) as error:  # ValueError: a null byte
                raised = as_raised(error, [path])
                self.errors.append((where, raised))
                self._not_run.append((where, source, raised))
                continue
            self._execute(compiled, namespace, where, [path], source)
        return namespace

    def _execute(self, code, namespace, where, files, source):
        try:
            with time_limit(self.cell_timeout):
                exec(code, namespace)  # noqa: S102 - the learner's own code, as they asked
        except BaseException as error:  # noqa: BLE001 - the learner's: reported, skipped
            raised = as_raised(error, files)
            self.errors.append((where, raised))
            self._not_run.append((where, source, raised))

    # calling

    def call(self, name, args, keep=None, substitute=None, timeout=None):
        """``name(*args)``; ``substitute``: ``{function name: the reference's function name}``,
        each of the learner's functions replaced by the reference's for the call, wherever the
        function called can reach it by name (see :func:`swapped`)."""
        function = self.functions[name]
        args = [self._resolved(a) for a in args]
        calls = {target: 0 for target in substitute or {}}
        with contextlib.ExitStack() as stack:
            for target, reference_name in (substitute or {}).items():
                stand_in = self._counted(calls, target, getattr(self.reference, reference_name))
                stack.enter_context(swapped(function, target, self.functions.get(target),
                                             stand_in, self.folders))  # fmt: skip
            with time_limit(timeout):
                result = function(*args)
        missed = [target for target, count in calls.items() if not count]
        if missed:
            raise protocol.NotSwapped(
                f"{name} never called it: it reaches its {', '.join(missed)} some way a swap "
                f"cannot follow (a default argument, a closure, an object's attribute)"
            )
        if keep is not None:
            self.kept[keep] = result
        return plain(result)

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
        if isinstance(argument, dict) and protocol.KEPT in argument:
            value = self.kept[argument[protocol.KEPT]]
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
def swapped(function, target: str, theirs, stand_in, folders=()):
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
                k == target and callable(v) and is_learners_module(module, folders)
            ):  # fmt: skip
                places.append((vars(module), k))
    saved = [(space, key, space.get(key, ABSENT)) for space, key in places]
    try:
        for space, key, _ in saved:
            space[key] = stand_in
        yield
    finally:
        for space, key, previous in reversed(saved):
            if previous is ABSENT:
                space.pop(key, None)
            else:
                space[key] = previous


def is_learners_module(module, folders) -> bool:
    """A module of the learner's: one in their folders (not the standard library's, not
    jaxrnn's, not the fallback ``rnn_utils``)."""
    file = getattr(module, "__file__", None)
    return file is not None and os.path.dirname(os.path.abspath(file)) in folders


class Shell:
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


ABSENT = object()


def text_of(source: bytes) -> str:
    """A file's bytes as text, decoded as Python decodes them, undecodable bytes replaced."""
    try:
        return importlib.util.decode_source(source)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return source.decode("utf-8", "replace")


#: a function's definition, found in code that may not parse
DEF = re.compile(r"^[ \t]*(?:async[ \t]+)?def[ \t]+(\w+)[ \t]*\(", re.MULTILINE)


def defined_names(source: str, names) -> list[str]:
    """The names of ``names`` that ``source`` defines with ``def``, read as text."""
    return [n for n in dict.fromkeys(DEF.findall(source)) if n in names]


def code_cells(path: str) -> list[str]:
    """A notebook's code cells' sources: nbformat 4 (``cells``) or 3 (``worksheets``)."""
    try:
        data = json.loads(pathlib.Path(path).read_bytes().decode("utf-8-sig"))
    except (OSError, ValueError) as error:
        raise protocol.NotASolution(
            f"{protocol.shown(path)} is not a notebook jaxrnn can read: {error}"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("cells"), list):
        cells, key = data["cells"], "source"
    elif isinstance(data, dict) and isinstance(data.get("worksheets"), list):
        cells = [c for w in data["worksheets"] if isinstance(w, dict)
                 for c in w.get("cells", [])]  # fmt: skip
        key = "input"
    else:
        raise protocol.NotASolution(
            f"{protocol.shown(path)} is not a notebook jaxrnn can read: JSON without the cells of "
            f"nbformat 4 or the worksheets of nbformat 3"
        )
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get(key, "")
            sources.append("".join(source) if isinstance(source, list) else str(source))
    return sources


#: a line IPython reads and Python does not: a magic, a shell command, help (``f?``)
IPYTHON_LINE = re.compile(r"^\s*([%!?]|[\w.]+\?{1,2}\s*$|[\w., ]+=\s*[%!])")


def python_of(source: str, ipython: bool = True) -> str | None:
    """A notebook cell's Python, or ``None`` for a cell whose magic makes it another language
    (``%%bash``). IPython's syntax becomes calls of ``get_ipython()`` (:class:`Shell`): by
    IPython's own transformer where IPython is installed (and ``ipython``), else by
    :func:`without_ipython`."""
    lines = source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].strip().startswith("%%"):
        if not lines[first].strip().startswith(PYTHON_CELL_MAGICS):
            return None
        # its body is the cell's Python: blank the magic's line, keeping the line numbers
        lines = [*lines[:first], "", *lines[first + 1 :]]
    if not any(IPYTHON_LINE.match(line) for line in lines):
        return "\n".join(lines) + "\n"
    if ipython:
        try:
            from IPython.core.inputtransformer2 import TransformerManager
        except ImportError:
            pass
        else:
            return TransformerManager().transform_cell("\n".join(lines) + "\n")
    return without_ipython(lines)


def without_ipython(lines: list[str]) -> str:
    """IPython's syntax left out, where IPython is not installed: a line that starts a
    statement with ``%``, ``!`` or ``?`` (a line continuing an expression, ``    % n_a)``, is
    Python), or asks for help (``np.dot?``), becomes ``pass`` (``%time`` keeps its
    statement); ``x = !ls`` becomes ``x = []``."""
    kept = []
    for line in lines:
        indent = line[: len(line) - len(line.lstrip())]
        stripped = line.strip()
        if IPYTHON_LINE.match(line) and not continues(kept):
            if stripped.startswith("%time "):
                line = indent + stripped.removeprefix("%time ").strip()
            elif "=" in stripped and not stripped.startswith(("%", "!", "?")):
                line = indent + stripped.split("=", 1)[0].strip() + " = []"
            else:
                line = indent + "pass"
        kept.append(line)
    return "\n".join(kept) + "\n"


def continues(lines: list[str]) -> bool:
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


def defined_at(function) -> str:
    code = getattr(function, "__code__", None)
    if code is None:
        return "?"
    file = code.co_filename
    if " [code cell " in file:
        path, cell = file.split(" [", 1)
        return f"{protocol.shown(path)}, {cell.rstrip(']')}, line {code.co_firstlineno}"
    return f"{protocol.shown(file)}:{code.co_firstlineno}"


def source_of(function) -> tuple[int, list[str]] | None:
    """``(first line, lines)`` of a function's own definition, as Python compiled it (a
    notebook cell's code as it ran), for the report to show beside an equation; ``None``
    where its source cannot be read."""
    code = getattr(function, "__code__", None)
    if code is None:
        return None
    lines = linecache.getlines(code.co_filename)
    try:
        tree = ast.parse("".join(lines))
    except (SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and code.co_firstlineno in (
            node.lineno,
            *(d.lineno for d in node.decorator_list),
        ):
            return node.lineno, [
                line.rstrip("\n") for line in lines[node.lineno - 1 : node.end_lineno]
            ]
    return None


class ModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the solution's own modules with :meth:`Solution.run_statements`."""

    def __init__(self, solution: Solution, modules: dict):
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


def serve(requests, replies):
    """The child's loop: a request in, a reply out, until the parent closes the pipe."""
    solution = None
    while True:
        message = protocol.receive(requests, trusted=True)
        if message is None:
            return
        kind, payload = message
        try:
            if kind == "load":
                solution = Solution(payload["paths"], payload["names"], payload["cell_timeout"])
                reply = ("loaded", solution.load())
            else:
                reply = ("ok", solution.call(**payload))
        except protocol.NotASolution as error:
            reply = ("unreadable", str(error))
        except protocol.NotSwapped as error:
            reply = ("not swapped", str(error))
        except BaseException as error:  # noqa: BLE001 - the learner's, KeyboardInterrupt too
            reply = ("raised", as_raised(error, solution.paths if solution else []))
        sys.stdout.flush()
        protocol.send(replies, protocol.as_data(reply))


if __name__ == "__main__":
    # the child: its own folder off the path (the learner's modules come first)
    sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(__file__)]
    serve(os.fdopen(int(sys.argv[1]), "rb"), os.fdopen(int(sys.argv[2]), "wb"))
