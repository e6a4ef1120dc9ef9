"""The ``jaxrnn`` command: ``jaxrnn check``, the report to run first
(:mod:`~jaxrnn.cli.report`); ``jaxrnn check FILE``, the report on your own solution of the
exercises (:mod:`~jaxrnn.cli.solution`, :mod:`jaxrnn.solution`); ``jaxrnn train``, a character
model (:mod:`~jaxrnn.cli.train`). Its arguments are :mod:`~jaxrnn.cli.command`'s, and the XLA
settings it makes for compile time :mod:`~jaxrnn.cli.xla`'s, which the tests import alone.
"""

from __future__ import annotations


def run(argv=None) -> int:
    """The ``jaxrnn`` command (:func:`jaxrnn.cli.command.run`)."""
    from jaxrnn.cli.command import run

    return run(argv)


def main(argv=None) -> int:
    """The ``jaxrnn`` command without the process's settings (:func:`jaxrnn.cli.command.main`)."""
    from jaxrnn.cli.command import main

    return main(argv)


__all__ = ["main", "run"]
