r"""The loss the documents leave out, and its hand-derived gradient, all the way to the inputs.

The documents stop at ``da``: "this notebook does not implement the backward path from the Loss
J backwards to a". Here is that path, for every cell, in the documents' style. With integer
labels :math:`y_i^{\langle t \rangle}` (or one-hot targets :math:`Y`) and :math:`m` examples:

.. math::
    z^{\langle t \rangle} &= W_y a^{\langle t \rangle} + b_y
        && \text{(L1) logits (the RNN's } W_{ya} \text{)} \\
    \hat y^{\langle t \rangle} &= \mathrm{softmax}(z^{\langle t \rangle})
        && \text{(L2)} \\
    J &= -\frac{1}{m} \sum_t \sum_i \log \hat y^{\langle t \rangle}_{y_i^{\langle t \rangle}, i}
        && \text{(L3) cross-entropy, summed over time, divided by } m \\
    dz^{\langle t \rangle} &= (\hat y^{\langle t \rangle} - Y^{\langle t \rangle}) / m
        && \text{(L4) softmax and cross-entropy together} \\
    dW_y &= \textstyle\sum_t dz^{\langle t \rangle} a^{\langle t \rangle T}
        && \text{(L5)} \\
    db_y &= \textstyle\sum_t \sum_{batch} dz^{\langle t \rangle}
        && \text{(L6)} \\
    da^{\langle t \rangle} &= W_y^T dz^{\langle t \rangle}
        && \text{(L7) what the documents' backward takes as } da \\
    dx, da_0, dW, db &= \text{backward}(da, \text{caches})
        && \text{(L8) the documents' sequence backward}

(L7) is the gradient from the output at step t only; the recurrence adds the part arriving from
step t+1 inside the sequence backward, as the documents' figure 7 shows.

A cell with its own readout (:class:`jaxrnn.Output`, the LRU's :math:`z = \mathrm{Re}(C a) +
D x`) takes its logits from it in (L1) and its own backward in place of (L5)-(L7); (L2)-(L4)
and (L8) stay, and the readout's input gradient adds to (L8)'s ``dx``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn._core.arguments import as_array, check_shapes, is_traced
from jaxrnn._core.caches import checked_caches, checked_lengths
from jaxrnn._core.cell import backward_states, checked_initial
from jaxrnn._core.lengths import masked
from jaxrnn.cells import resolve


def targets(fn: str, labels, n_y: int, dtype, lengths=None):
    """One-hot targets ``(n_y, m, T_x)`` from checked integer labels ``(m, T_x)`` or one-hot ones.

    Integer labels must lie in ``[0, n_y)``; one-hot (or soft) targets must be non-negative
    with every column summing to 1, which (L4) assumes. Both are checked when the labels have
    values; under ``jax.jit`` they do not, and a column that breaks the rule becomes NaN, so the
    loss and every gradient it reaches are NaN instead of a plausible number. With ``lengths``,
    only the steps within each example's length count: the others' targets are zero, whatever
    their labels (padding).
    """
    T = labels.shape[-1]
    inside = jnp.ones(labels.shape[-2:], bool) if lengths is None else (
        jnp.arange(T) < lengths[:, None]
    )  # fmt: skip
    if jnp.issubdtype(labels.dtype, jnp.integer):
        if not is_traced(labels) and not is_traced(inside):
            counted = np.asarray(labels)[np.asarray(inside)]
            if counted.size and (counted.min() < 0 or counted.max() >= n_y):
                raise ValueError(
                    f"{fn}: `labels` must lie in [0, n_y) = [0, {n_y}); got values in "
                    f"[{int(counted.min())}, {int(counted.max())}]"
                    + (" within the lengths" if lengths is not None else "")
                )
        ok = (labels >= 0) & (labels < n_y)
        Y = jnp.moveaxis(jax.nn.one_hot(labels, n_y, dtype=dtype), -1, 0)
        return jnp.where(inside, jnp.where(ok, Y, jnp.nan), 0)
    Y = jnp.asarray(labels, dtype)
    # a column's sum is exact for one-hot targets; soft ones may round in their last bits
    slack = 8 * n_y * float(jnp.finfo(dtype).eps)
    ok = jnp.all(Y >= 0, axis=0) & (jnp.abs(jnp.sum(Y, axis=0) - 1) <= slack)
    if not is_traced(labels) and not is_traced(inside) and not bool(jnp.all(ok | ~inside)):
        t = np.argwhere(~np.asarray(ok | ~inside))[0]
        raise ValueError(
            f"{fn}: one-hot `labels` must be non-negative with each column (example, step) "
            f"summing to 1; the column labels[:, {t[0]}, {t[1]}] = "
            f"{np.asarray(Y[:, t[0], t[1]]).tolist()} does not"
        )
    return jnp.where(inside, jnp.where(ok, Y, jnp.nan), 0)


def _checked(fn: str, cell, x, a0, parameters, labels, lengths, initial):
    """The sequence's arguments (the further initial states among them), the labels and the
    lengths checked together before any work."""
    specs, _ = checked_initial(cell, fn, initial)
    data = [("x", x, "n_x m T_x"), ("a0", a0, "n_a m"), *specs]
    x, a0, *_, p = cell.validated(fn, data, parameters)
    labels = as_array(fn, "labels", labels)
    if jnp.issubdtype(labels.dtype, jnp.integer):
        check_shapes(fn, [("x", x, "n_x m T_x"), ("labels", labels, "m T_x")])
    elif jnp.issubdtype(labels.dtype, jnp.floating):
        specs = [(f"parameters['{k}']", p[k], cell.parameter_shapes[k]) for k in cell.output]
        specs.append(("x", x, "n_x m T_x"))
        check_shapes(fn, [*specs, ("labels", labels, "n_y m T_x")])
    else:
        raise TypeError(
            f"{fn}: `labels` must be integer classes (m, T_x) or floating one-hot targets "
            f"(n_y, m, T_x); got dtype {labels.dtype}"
        )
    if lengths is not None:
        lengths = checked_lengths(fn, lengths, x.shape[1], x.shape[-1])
    return x, a0, p, labels, lengths


def cross_entropy(cell, x, a0, parameters, labels, *, lengths=None, reverse=False, **initial):
    """:math:`J` of (L3): the softmax cross-entropy of the predictions, by the forward alone.

    Computed from the logits with a log-softmax, so a prediction that underflows to 0 gives a
    large finite loss, not infinity. With ``lengths``, the steps beyond each example's length
    are left out of the sum. Differentiable by ``jax.grad``: the autodiff reference for
    :func:`loss_and_gradients`.
    """
    cell = resolve("cross_entropy", cell)
    fn = f"{cell.name} cross_entropy"
    x, a0, parameters, labels, lengths = _checked(
        fn, cell, x, a0, parameters, labels, lengths, initial
    )
    a = cell.forward(x, a0, parameters, lengths=lengths, reverse=reverse, **initial)[0]
    return output_loss(fn, cell, a, x, parameters, labels, lengths)[0]


def output_loss(fn, cell, a, x, parameters, labels, lengths):
    """(L1)-(L3) from the hidden states ``a`` and the inputs ``x``: ``(J, Y, z, m)``, ``Y``
    the one-hot targets, ``z`` the logits of ``cell.readout``."""
    z = cell.readout.logits(a, x, parameters)  # (L1)
    m = a.shape[1]
    Y = targets(fn, labels, z.shape[0], z.dtype, lengths)
    J = -jnp.sum(Y * jax.nn.log_softmax(z, axis=0)) / m  # (L2), (L3)
    return J, Y, z, m


def logits_gradient(z, Y, m, lengths):
    """(L4): ``(softmax(z) - Y) / m``, zero at the steps beyond each example's length."""
    return masked((jax.nn.softmax(z, axis=0) - Y) / m, lengths)


def loss_and_gradients(cell, x, a0, parameters, labels, *, lengths=None, reverse=False, **initial):
    """The loss (L3) and its complete hand-derived gradient, (L4)-(L8).

    Arguments:
        cell: ``"rnn"``, ``"lstm"``, ``"gru"``, a :class:`jaxrnn.Cell` or ``"module:NAME"``.
        x, a0, parameters, lengths, reverse: as for the cell's sequence forward; the steps
            beyond an example's length are left out of the loss.
        c0 (each further state's ``<state>0``): where that state starts; its gradient is then
            returned too.
        labels: integer class per example and step ``(m, T_x)``, or one-hot ``(n_y, m, T_x)``.

    Returns:
        ``(J, gradients)``: the scalar loss and a dictionary with ``dx``, ``da0``, the recurrent
        parameters' gradients and the output layer's (``dWya``/``dWy``, ``dby``; the LRU's
        ``dC_re``, ``dC_im``, ``dD``): the gradient of J with respect to every input and
        parameter.

    >>> import numpy as np, jaxrnn
    >>> rng = np.random.default_rng(0)
    >>> p = jaxrnn.cells.RNN.random_parameters(rng, 3, 4, 5)
    >>> x, a0 = rng.standard_normal((3, 2, 6), np.float32), np.zeros((4, 2), np.float32)
    >>> J, g = loss_and_gradients("rnn", x, a0, p, labels=np.zeros((2, 6), int))
    >>> list(g)
    ['dx', 'da0', 'dWax', 'dWaa', 'dba', 'dWya', 'dby']
    """
    cell = resolve("loss_and_gradients", cell)
    fn = f"{cell.name} loss_and_gradients"
    x, a0, parameters, labels, lengths = _checked(
        fn, cell, x, a0, parameters, labels, lengths, initial
    )
    *outputs, caches = cell.forward(x, a0, parameters, lengths=lengths, reverse=reverse, **initial)
    a = outputs[0]
    J, Y, z, m = output_loss(fn, cell, a, x, parameters, labels, lengths)
    dz = logits_gradient(z, Y, m, lengths)  # (L4)
    da, dx, doutput = cell.readout.backward(dz, a, x, parameters)  # (L5)-(L7)
    gradients = cell.backward(da, caches)  # (L8)
    if dx is not None:  # the readout reads the input too (the LRU's D x)
        gradients["dx"] = gradients["dx"] + dx
    return J, {**gradients, **{f"d{k}": doutput[k] for k in cell.output}}


def hidden_state_gradients(cell, da, caches):
    r"""The whole gradient reaching every hidden state, :math:`\partial J / \partial a_t`.

    ``da`` is the loss's direct gradient at each hidden state (as for the sequence backward);
    the result adds what flows back through the recurrence from every later step: exactly the
    ``da_next`` the documents' reverse loop hands to the cell backward at step ``t``, taken from
    the manual reverse scan. Its norm against ``t`` shows gradients vanishing (or not).

    Returns:
        ``(n_a, m, T_da)``.
    """
    cell = resolve("hidden_state_gradients", cell)
    fn = f"{cell.name} hidden_state_gradients"
    steps, x, da = checked_caches(fn, caches, da, cell)
    upstream = (da, *(None for _ in cell.state[1:]))
    *_, da_next = backward_states(
        cell, upstream, steps.fields, x, steps.parameters, steps.lengths, steps.reverse,
        keep=True,
    )  # fmt: skip
    return da_next


__all__ = [
    "cross_entropy", "hidden_state_gradients", "logits_gradient", "loss_and_gradients",
    "output_loss", "targets",
]  # fmt: skip
