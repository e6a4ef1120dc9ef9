"""Weights in and out: jaxrnn's parameter dictionaries from and to PyTorch's ``nn.RNN``,
``nn.LSTM`` and ``nn.GRU`` and Flax NNX's ``SimpleCell``, ``LSTMCell``, ``OptimizedLSTMCell``
and ``GRUCell``.

The documents' parameters act on ``[a_prev; x_t]`` as columns, each gate with one bias;
PyTorch's act on rows, gates stacked ``(i, f, g, o)`` or ``(r, z, n)`` with a bias on each
side, and Flax's kernels are transposed (``x @ W``). So a conversion reorders the gates,
transposes, joins the weights on ``a_prev`` and ``x_t`` and sums the two biases (back: the
whole bias goes on the input side). PyTorch's and Flax's GRU is the reset-after form,
:data:`jaxrnn.cells.GRU_RESET_AFTER`, whose update gate ``Γu`` is their ``1 - z``: its weights
and bias change sign. The course's GRU resets ``c_prev`` before its candidate's matrix: no
weights of theirs mean the same, and asking for them is an error saying so.

PyTorch modules come as :mod:`jaxrnn.layers` stacks, ``(layers, parameters)``, one entry per
torch layer (``Bidirectional`` where the module is), each layer's recurrent parameters; the
documents' single cell is ``parameters[0]`` with an output layer of your own (``Wy``, ``by``).
torch is imported only here, when a conversion is asked for.
"""

from __future__ import annotations

import numpy as np

from jaxrnn import layers as layers_module
from jaxrnn.cells import GRU, GRU_RESET_AFTER, LSTM, RNN, resolve

#: each cell's PyTorch module, and its gates in PyTorch's order
_TORCH = {"rnn": ("RNN", ()), "lstm": ("LSTM", ("i", "f", "c", "o")),
          "gru_reset_after": ("GRU", ("r", "u", "n"))}  # fmt: skip
_NO_COUNTERPART = (
    "the course's GRU (jaxrnn.cells.GRU) resets c_prev before its candidate's matrix sees it; "
    "PyTorch's and Flax's GRU reset the matrix product, a different function, so no weights of "
    "one mean the same in the other: use jaxrnn.cells.GRU_RESET_AFTER"
)


def _numpy(tensor) -> np.ndarray:
    return tensor.detach().cpu().numpy().copy()


def _join(W_h, W_i):
    """The weight on ``[a_prev; x_t]`` from its two parts."""
    return np.concatenate([W_h, W_i], axis=1)


def from_torch_layer(cell, W_ih, W_hh, b_ih, b_hh) -> dict:
    """One PyTorch layer-direction's ``weight_ih, weight_hh, bias_ih, bias_hh`` (NumPy) as the
    documents' parameters of ``cell`` (without the output layer)."""
    cell = resolve("from_torch_layer", cell)
    if cell is GRU:
        raise ValueError(f"from_torch_layer: {_NO_COUNTERPART}")
    n_a = W_hh.shape[1]
    b = (b_ih + b_hh)[:, None]
    if cell is RNN:
        return {"Wax": W_ih, "Waa": W_hh, "ba": b}
    rows = lambda W, k: W[k * n_a : (k + 1) * n_a]  # noqa: E731 - gate k of PyTorch's stack
    if cell is LSTM:  # PyTorch's gates: i, f, g (the candidate), o
        p = {}
        for k, gate in enumerate("ifco"):
            p |= {f"W{gate}": _join(rows(W_hh, k), rows(W_ih, k)), f"b{gate}": rows(b, k)}
        return p
    # the reset-after GRU: PyTorch's r, z, n; z = 1 - Γu
    return {
        "Wr": _join(rows(W_hh, 0), rows(W_ih, 0)), "br": rows(b, 0),
        "Wu": -_join(rows(W_hh, 1), rows(W_ih, 1)), "bu": -rows(b, 1),
        "Wcc": rows(W_hh, 2), "bcc": rows(b_hh[:, None], 2),
        "Wcx": rows(W_ih, 2), "bcx": rows(b_ih[:, None], 2),
    }  # fmt: skip


def to_torch_layer(cell, p) -> tuple:
    """The documents' parameters of ``cell`` as a PyTorch layer-direction's ``(weight_ih,
    weight_hh, bias_ih, bias_hh)``, NumPy; the bias on the input side."""
    cell = resolve("to_torch_layer", cell)
    if cell is GRU:
        raise ValueError(f"to_torch_layer: {_NO_COUNTERPART}")
    p = {k: np.asarray(v) for k, v in p.items()}
    if cell is RNN:
        return p["Wax"], p["Waa"], p["ba"][:, 0], np.zeros_like(p["ba"][:, 0])
    if cell is LSTM:
        n_a = p["Wf"].shape[0]
        W = [p[f"W{g}"] for g in "ifco"]
        b = np.concatenate([p[f"b{g}"][:, 0] for g in "ifco"])
        W_ih, W_hh = (
            np.concatenate([w[:, n_a:] for w in W]),
            np.concatenate([w[:, :n_a] for w in W]),
        )
        return W_ih, W_hh, b, np.zeros_like(b)
    n_a = p["Wr"].shape[0]
    W_ih = np.concatenate([p["Wr"][:, n_a:], -p["Wu"][:, n_a:], p["Wcx"]])
    W_hh = np.concatenate([p["Wr"][:, :n_a], -p["Wu"][:, :n_a], p["Wcc"]])
    zeros = np.zeros_like(p["br"][:, 0])
    b_ih = np.concatenate([p["br"][:, 0], -p["bu"][:, 0], p["bcx"][:, 0]])
    b_hh = np.concatenate([zeros, zeros, p["bcc"][:, 0]])
    return W_ih, W_hh, b_ih, b_hh


def _torch_cell(module):
    kind = type(module).__name__
    names = {torch_name: name for name, (torch_name, _) in _TORCH.items()}
    if kind not in names:
        raise TypeError(f"from_torch: `module` must be torch.nn.RNN, LSTM or GRU; got {kind}")
    if kind == "RNN" and module.nonlinearity != "tanh":
        raise ValueError("from_torch: jaxrnn's RNN is tanh's; this nn.RNN's nonlinearity is relu")
    if kind == "LSTM" and getattr(module, "proj_size", 0):
        raise ValueError("from_torch: an nn.LSTM with proj_size has no counterpart in jaxrnn")
    return resolve("from_torch", names[kind])


def from_torch(module) -> tuple[list, list]:
    """A PyTorch ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` as a :mod:`jaxrnn.layers` stack:
    ``(layers, parameters)``, as NumPy arrays of the module's dtype (``bias=False``: zeros)."""
    cell = _torch_cell(module)
    suffixes = ["", "_reverse"] if module.bidirectional else [""]
    state = {k: _numpy(v) for k, v in module.state_dict().items()}
    layers, parameters = [], []
    for layer in range(module.num_layers):
        directions = []
        for suffix in suffixes:
            W_ih, W_hh = state[f"weight_ih_l{layer}{suffix}"], state[f"weight_hh_l{layer}{suffix}"]
            zeros = np.zeros(W_ih.shape[0], W_ih.dtype)
            b_ih = state.get(f"bias_ih_l{layer}{suffix}", zeros)
            b_hh = state.get(f"bias_hh_l{layer}{suffix}", zeros)
            directions.append(from_torch_layer(cell, W_ih, W_hh, b_ih, b_hh))
        if module.bidirectional:
            layers.append(layers_module.Bidirectional(cell))
            parameters.append({"forward": directions[0], "backward": directions[1]})
        else:
            layers.append(layers_module.Layer(cell))
            parameters.append(directions[0])
    return layers, parameters


def to_torch(layers, parameters, *, batch_first: bool = False):
    """A :mod:`jaxrnn.layers` stack (or one cell's parameters, as ``(cell, parameters)``) as a
    PyTorch module of the same weights, in their dtype. Every layer must be of one cell, all
    bidirectional or none, and forward in time: what one PyTorch module can be."""
    import torch

    if not isinstance(layers, (list, tuple)):  # one cell
        layers, parameters = [layers_module.Layer(layers)], [parameters]
    stack = [layers_module.as_layer(layer) for layer in layers]
    cells = {layer.cell if isinstance(layer, layers_module.Layer) else layer.forward
             for layer in stack} | {layer.backward for layer in stack
                                    if isinstance(layer, layers_module.Bidirectional)}  # fmt: skip
    if len(cells) != 1:
        raise ValueError("to_torch: a PyTorch module has one kind of cell; these layers have "
                         + ", ".join(sorted(c.name for c in cells)))  # fmt: skip
    (cell,) = cells
    if cell is GRU:
        raise ValueError(f"to_torch: {_NO_COUNTERPART}")
    if cell.name not in _TORCH:
        raise ValueError(f"to_torch: PyTorch has no module for the cell {cell.name!r}")
    both = {isinstance(layer, layers_module.Bidirectional) for layer in stack}
    if len(both) != 1 or any(getattr(layer, "reverse", False) for layer in stack):
        raise ValueError("to_torch: a PyTorch module's layers are all bidirectional or all "
                         "forward in time")  # fmt: skip
    bidirectional = both.pop()
    if len(parameters) != len(stack):
        raise ValueError(f"to_torch: {len(stack)} layers and {len(parameters)} parameter "
                         f"dictionaries; one per layer")  # fmt: skip
    directions = [[p["forward"], p["backward"]] if bidirectional else [p] for p in parameters]
    converted = [[to_torch_layer(cell, d) for d in layer] for layer in directions]
    n_a, n_x = converted[0][0][1].shape[1], converted[0][0][0].shape[1]
    for i, layer in enumerate(converted):
        inputs = n_x if i == 0 else n_a * (2 if bidirectional else 1)
        for W_ih, W_hh, *_ in layer:
            if W_hh.shape[1] != n_a or W_ih.shape[1] != inputs:
                raise ValueError(
                    f"to_torch: a PyTorch module's layers share one hidden size, each taking "
                    f"the last one's output: layer {i} has n_a = {W_hh.shape[1]} and "
                    f"{W_ih.shape[1]} inputs; expected n_a = {n_a} and {inputs} inputs"
                )
    dtype = _torch_dtype(torch, np.asarray(next(iter(directions[0][0].values()))).dtype)
    kind = getattr(torch.nn, _TORCH[cell.name][0])
    module = kind(n_x, n_a, num_layers=len(stack), bidirectional=bidirectional,
                  batch_first=batch_first, dtype=dtype)  # fmt: skip
    state = {}
    for i, layer in enumerate(converted):
        for values, suffix in zip(layer, ("", "_reverse"), strict=False):
            for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), values,
                                   strict=True):  # fmt: skip
                state[f"{name}_l{i}{suffix}"] = _tensor(torch, value, dtype)
    module.load_state_dict(state)
    return module


#: the dtypes a PyTorch module is made in, as NumPy names them
_TORCH_DTYPES = ("float64", "float32", "float16", "bfloat16")


def _torch_dtype(torch, dtype):
    """The torch dtype of parameters of ``dtype``: the same, or an error naming those there
    are."""
    if np.dtype(dtype).name not in _TORCH_DTYPES:
        raise TypeError(f"to_torch: parameters of dtype {np.dtype(dtype).name}; a PyTorch "
                        f"module is made in {', '.join(_TORCH_DTYPES)}")  # fmt: skip
    return getattr(torch, np.dtype(dtype).name)


def _tensor(torch, value, dtype):
    """A weight as a tensor of ``dtype``; bfloat16, which NumPy lacks, through float32
    (exactly: every bfloat16 is a float32)."""
    value = np.asarray(value)
    if value.dtype.name == "bfloat16":
        return torch.as_tensor(value.astype(np.float32)).to(dtype)
    return torch.as_tensor(np.array(value), dtype=dtype)


# Flax NNX: kernels (in, out), x @ kernel + bias


def _kernel(linear) -> np.ndarray:
    return np.asarray(linear.kernel[...]).T


def _bias(linear, n: int, dtype) -> np.ndarray:
    bias = getattr(linear, "bias", None)
    return np.zeros((n, 1), dtype) if bias is None else np.asarray(bias[...])[:, None]


def _computes(function, name: str) -> bool:
    """Whether ``function`` is ``tanh`` or the logistic ``sigmoid`` (``name``), by its values
    on [-6, 6]: Flax's cells take any activation, jaxrnn's cells compute these two."""
    import jax.numpy as jnp

    grid = np.linspace(-6.0, 6.0, 49)
    want = np.tanh(grid) if name == "tanh" else 1 / (1 + np.exp(-grid))
    try:
        got = np.asarray(function(jnp.asarray(grid, jnp.float32)), np.float64)
    except Exception:  # noqa: BLE001 - a function that cannot take an array is neither
        return False
    return got.shape == grid.shape and bool(np.allclose(got, want, rtol=1e-5, atol=1e-6))


def _same_functions(flax_cell, kind: str) -> None:
    """A Flax cell's activations must be the ones jaxrnn's cell computes: otherwise its weights
    mean something else in jaxrnn, and converting them would be silently wrong."""
    for attribute, name in (("activation_fn", "tanh"), ("gate_fn", "sigmoid")):
        function = getattr(flax_cell, attribute, None)
        if function is not None and not _computes(function, name):
            shown = getattr(function, "__name__", type(function).__name__)
            raise ValueError(
                f"from_flax: this {kind}'s {attribute} is {shown}, not {name}: jaxrnn's cell "
                f"computes {name} there, so its weights would mean something else"
            )


def from_flax(flax_cell) -> tuple:
    """A Flax NNX ``SimpleCell``, ``LSTMCell``, ``OptimizedLSTMCell`` or ``GRUCell`` as
    ``(jaxrnn cell, parameters)``, the recurrent ones, as NumPy arrays. Its activations must
    be jaxrnn's: ``tanh``, and the logistic ``sigmoid`` for gates."""
    kind = type(flax_cell).__name__
    if kind in ("SimpleCell", "LSTMCell", "OptimizedLSTMCell", "GRUCell"):
        _same_functions(flax_cell, kind)
    if kind == "SimpleCell":
        if getattr(flax_cell, "residual", False):
            raise ValueError("from_flax: a residual SimpleCell has no counterpart in jaxrnn")
        W_i = _kernel(flax_cell.dense_i)
        return RNN, {"Wax": W_i, "Waa": _kernel(flax_cell.dense_h),
                     "ba": _bias(flax_cell.dense_i, W_i.shape[0], W_i.dtype)}  # fmt: skip
    if kind in ("LSTMCell", "OptimizedLSTMCell"):
        if kind == "LSTMCell":  # one Linear per gate and side; the hidden side has the bias
            weights = {}
            for g, (h, i) in _flax_lstm_gates(flax_cell).items():
                W_h = _kernel(h)
                weights[g] = (W_h, _kernel(i), _bias(h, W_h.shape[0], W_h.dtype))
        else:  # fused: the four gates' columns side by side
            W_h, W_i = _kernel(flax_cell.dense_h), _kernel(flax_cell.dense_i)
            b, n_a = _bias(flax_cell.dense_h, W_h.shape[0], W_h.dtype), W_h.shape[1]
            rows = lambda W, k: W[k * n_a : (k + 1) * n_a]  # noqa: E731
            weights = {g: (rows(W_h, k), rows(W_i, k), rows(b, k)) for k, g in enumerate("ifco")}
        p = {}
        for g, (W_h, W_i, b) in weights.items():
            p |= {f"W{g}": _join(W_h, W_i), f"b{g}": b}
        return LSTM, p
    if kind == "GRUCell":  # r, z, n side by side; the input side alone has biases
        W_i, W_h = _kernel(flax_cell.dense_i), _kernel(flax_cell.dense_h)
        n_a = W_h.shape[1]
        b = _bias(flax_cell.dense_i, W_i.shape[0], W_i.dtype)
        rows = lambda W, k: W[k * n_a : (k + 1) * n_a]  # noqa: E731
        return GRU_RESET_AFTER, {
            "Wr": _join(rows(W_h, 0), rows(W_i, 0)), "br": rows(b, 0),
            "Wu": -_join(rows(W_h, 1), rows(W_i, 1)), "bu": -rows(b, 1),
            "Wcc": rows(W_h, 2), "bcc": np.zeros_like(rows(b, 2)),
            "Wcx": rows(W_i, 2), "bcx": rows(b, 2),
        }  # fmt: skip
    raise TypeError(
        f"from_flax: `flax_cell` must be a Flax NNX SimpleCell, LSTMCell, OptimizedLSTMCell or "
        f"GRUCell; got {kind}"
    )


def to_flax(cell, parameters, *, rngs=None, optimized: bool = True):
    """``cell``'s parameters as the Flax NNX cell of the same function: a ``SimpleCell``, an
    ``OptimizedLSTMCell`` (``optimized=False``: an ``LSTMCell``) or a ``GRUCell``, in the
    parameters' dtype. Flax's ``GRUCell`` has no bias inside its reset gate: ``bcc`` must be 0."""
    from flax import nnx

    cell = resolve("to_flax", cell)
    if cell is GRU:
        raise ValueError(f"to_flax: {_NO_COUNTERPART}")
    p = {k: np.asarray(v) for k, v in parameters.items()}
    rngs = rngs or nnx.Rngs(0)
    dtype = next(iter(p.values())).dtype
    if cell is RNN:
        n_a, n_x = p["Wax"].shape
        flax_cell = nnx.SimpleCell(n_x, n_a, rngs=rngs, param_dtype=dtype, dtype=dtype)
        _set(flax_cell.dense_i, p["Wax"], p["ba"])
        _set(flax_cell.dense_h, p["Waa"])
        return flax_cell
    if cell is LSTM:
        n_a = p["Wf"].shape[0]
        n_x = p["Wf"].shape[1] - n_a
        if optimized:
            flax_cell = nnx.OptimizedLSTMCell(n_x, n_a, rngs=rngs, param_dtype=dtype, dtype=dtype)
            W = [p[f"W{g}"] for g in "ifco"]
            _set(flax_cell.dense_i, np.concatenate([w[:, n_a:] for w in W]))
            _set(flax_cell.dense_h, np.concatenate([w[:, :n_a] for w in W]),
                 np.concatenate([p[f"b{g}"] for g in "ifco"]))  # fmt: skip
            return flax_cell
        flax_cell = nnx.LSTMCell(n_x, n_a, rngs=rngs, param_dtype=dtype, dtype=dtype)
        for g, (h, i) in _flax_lstm_gates(flax_cell).items():
            _set(i, p[f"W{g}"][:, n_a:])
            _set(h, p[f"W{g}"][:, :n_a], p[f"b{g}"])
        return flax_cell
    if cell is not GRU_RESET_AFTER:
        raise ValueError(f"to_flax: Flax has no cell for {cell.name!r}")
    if np.any(p["bcc"]):
        raise ValueError("to_flax: Flax's GRUCell has no bias inside its reset gate; these "
                         "parameters' bcc is not 0")  # fmt: skip
    n_a = p["Wr"].shape[0]
    n_x = p["Wr"].shape[1] - n_a
    flax_cell = nnx.GRUCell(n_x, n_a, rngs=rngs, param_dtype=dtype, dtype=dtype)
    _set(flax_cell.dense_i, np.concatenate([p["Wr"][:, n_a:], -p["Wu"][:, n_a:], p["Wcx"]]),
         np.concatenate([p["br"], -p["bu"], p["bcx"]]))  # fmt: skip
    _set(flax_cell.dense_h, np.concatenate([p["Wr"][:, :n_a], -p["Wu"][:, :n_a], p["Wcc"]]))
    return flax_cell


def _flax_lstm_gates(flax_cell) -> dict:
    """A Flax ``LSTMCell``'s ``Linear`` s per gate, ``{gate: (hidden side, input side)}``, by
    jaxrnn's names (Flax's ``g`` is the candidate, ``c``)."""
    c = flax_cell
    return {"i": (c.hi, c.ii), "f": (c.hf, c.if_), "c": (c.hg, c.ig), "o": (c.ho, c.io)}


def _set(linear, W, b=None) -> None:
    """A Flax ``Linear``'s kernel (and bias) from a weight ``(out, in)`` (and ``(out, 1)``)."""
    import jax.numpy as jnp

    linear.kernel[...] = jnp.asarray(W.T)
    if b is not None:
        linear.bias[...] = jnp.asarray(b[:, 0])


__all__ = ["from_flax", "from_torch", "from_torch_layer", "to_flax", "to_torch", "to_torch_layer"]
