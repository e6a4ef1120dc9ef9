"""Sphinx configuration of jaxrnn's documentation: MyST-NB pages and notebooks whose code runs
in the build, and an API reference generated from the docstrings of every public module.

    python -m pip install ".[test,docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import pathlib
import shutil

import jaxrnn

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent

project = "jaxrnn"
author = "the jaxrnn developers"
copyright = "the jaxrnn developers"  # noqa: A001 - Sphinx's name for it
release = version = jaxrnn.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "README.md"]
templates_path = ["_templates"]
html_theme = "furo"
html_title = f"jaxrnn {version}"

# the API reference: one page per public module, its members as its __all__ names them
autosummary_generate = True
autosummary_ignore_module_all = False
# every name of __all__, the constants among them, whose doc comments are read where they are set
autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "imported-members": True,  # only the names of __all__: those a package gathers are its own
    "member-order": "bysource",
}
autodoc_typehints = "description"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_ivar = True  # attributes as fields, not objects a second time

# every page's and every notebook's code runs in the build, so that no page shows what the
# code no longer does
myst_enable_extensions = ["dollarmath", "colon_fence"]
nb_render_markdown_format = "myst"  # a cell's Markdown output may hold $math$
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_merge_streams = True

# the notebooks live in ../notebooks, beside the code; Sphinx reads pages under docs/
_NOTEBOOKS = HERE / "notebooks"
shutil.rmtree(_NOTEBOOKS, ignore_errors=True)
shutil.copytree(
    ROOT / "notebooks", _NOTEBOOKS, ignore=shutil.ignore_patterns("*.py", "__pycache__")
)


def public_modules() -> list:
    """jaxrnn and every module of it whose dotted name has no private part."""
    import importlib
    import pkgutil

    names = [
        info.name
        for info in pkgutil.walk_packages(jaxrnn.__path__, "jaxrnn.")
        if not any(part.startswith("_") for part in info.name.split(".")[1:])
    ]
    return [jaxrnn] + [importlib.import_module(name) for name in names]


def every_public_name_documented(app, env) -> None:
    """A warning (an error under -W) for each public name the API reference does not hold."""
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    documented = set(env.get_domain("py").objects)
    for module in public_modules():
        if not hasattr(module, "__all__"):
            logger.warning("%s has no __all__: its public names are not said", module.__name__)
            continue
        for name in [module.__name__] + [f"{module.__name__}.{n}" for n in module.__all__]:
            if name not in documented:
                logger.warning("%s is public but not in the API reference", name)


def setup(app):
    app.connect("env-check-consistency", every_public_name_documented)
