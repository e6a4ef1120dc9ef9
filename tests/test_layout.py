"""The house's rules: a few modules at the top, every public module saying its names in
``__all__``, and no private name borrowed across the wings."""

import ast
import importlib
import pathlib
import pkgutil

import jaxrnn

PACKAGE = pathlib.Path(jaxrnn.__file__).parent


def modules():
    """Every module of jaxrnn: ``(dotted name, path)``."""
    yield "jaxrnn", PACKAGE / "__init__.py"
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name != "jaxrnn":
            yield name, path


def is_public(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split(".")[1:])


def test_a_dozen_modules_at_the_top():
    top = [p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("__")]
    assert len(top) <= 12, top


def test_every_public_module_says_its_names():
    public = [name for name, _ in modules() if is_public(name)]
    assert len(public) >= 30
    for name in public:
        module = importlib.import_module(name)
        assert hasattr(module, "__all__"), f"{name} has no __all__"
        assert len(set(module.__all__)) == len(module.__all__), name
        missing = [n for n in module.__all__ if not hasattr(module, n)]
        assert not missing, f"{name}.__all__ names what it lacks: {missing}"


def test_no_private_name_crosses_a_wing():
    """``from jaxrnn.X import _name`` only within X's own wing (jaxrnn.gradcheck for
    jaxrnn.gradcheck._opinions); the private modules (``_core``, ``solution._child``) are
    imported for their public names."""

    def wing(name: str) -> str:
        return ".".join(name.split(".")[:2])

    every = {name for name, _ in modules()}
    borrowed = []
    for name, path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jaxrnn"):
                for alias in node.names:
                    private = alias.name.startswith("_") and not alias.name.startswith("__")
                    a_module = (
                        f"{node.module}.{alias.name}" in every
                    )  # ``from jaxrnn import _core``
                    if private and not a_module and wing(node.module) != wing(name):
                        borrowed.append(f"{name}: from {node.module} import {alias.name}")
    assert not borrowed


def test_the_walk_finds_what_pkgutil_finds():
    walked = {i.name for i in pkgutil.walk_packages(jaxrnn.__path__, "jaxrnn.")}
    assert walked == {name for name, _ in modules()} - {"jaxrnn"}
