"""``jaxrnn check``: the report to run first; ``jaxrnn check FILE``: the report on your own
solution of the exercises (:mod:`jaxrnn.solution`); ``jaxrnn train``: a character model.

For each architecture, at cell level, at sequence level, over a long sequence (T_x = 200), with
variable lengths, reversed, as a bidirectional layer and in a stack of layers under a loss (see
:mod:`jaxrnn.problems`), on every device JAX sees, in float64 and float32 (``--dtype`` adds
float16 and bfloat16), one row saying whether jaxrnn's hand-derived backward pass

* reproduces the documents' printed expected outputs (forward and backward test cells),
* agrees with ``jax.vjp`` of jaxrnn's forward (largest relative error over the gradients),
* agrees with forward mode: ``<u, J v>`` by ``jax.jvp`` against ``<J^T u, v>`` from the backward,
  in float64 (the dot-product test, which uses no reverse mode at all),
* agrees with central finite differences in float64,

within the tolerances of :mod:`jaxrnn.gradcheck.tolerances`. The exit status is non-zero when
anything disagrees. ``--verbose`` prints the gradient checker's table behind every row.
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
