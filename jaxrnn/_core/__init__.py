"""jaxrnn's machinery, private: what a cell is and how a sequence runs over it
(:mod:`~jaxrnn._core.cell`), the one place time is unrolled, forward and backward
(:mod:`~jaxrnn._core.unroll`), the sequence caches (:mod:`~jaxrnn._core.caches`), variable
lengths and reversed time (:mod:`~jaxrnn._core.lengths`), the stacked gates' layout
(:mod:`~jaxrnn._core.layout`), the output layer (:mod:`~jaxrnn._core.output`), the argument
checks every public function makes (:mod:`~jaxrnn._core.arguments`) and the cells' equations
read off their docstrings (:mod:`~jaxrnn._core.equations`). The public names are
re-exported where users find them: :class:`jaxrnn.Cell`, :class:`jaxrnn.SequenceCache`,
:func:`jaxrnn.layers.final_state`.
"""
