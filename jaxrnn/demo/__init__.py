"""A demonstration: a character-level language model of dinosaur names trained with
jaxrnn's hand-derived gradients (:mod:`~jaxrnn.demo.charlm`, ``jaxrnn train``; ``pip install
'jaxrnn[demo]'`` for Optax).
"""

__all__: list[str] = []  # its module, charlm, imports Optax only when it trains
