"""jaxrnn with the libraries around it, each an extra of its own: Equinox modules
(:mod:`~jaxrnn.interop.eqx`, ``pip install 'jaxrnn[equinox]'``), Flax NNX modules
(:mod:`~jaxrnn.interop.nnx`, ``jaxrnn[flax]``), and weights to and from PyTorch's and Flax's
recurrent modules (:mod:`~jaxrnn.interop.weights`, ``jaxrnn[torch]``). Importing this package
imports none of them; each module imports its library when it is imported.
"""

__all__: list[str] = []  # its modules are its names, each imported on its own
