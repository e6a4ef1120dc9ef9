"""A character-level language model trained with jaxrnn's hand-derived gradients.

The model reads one character at a time (one-hot, ``n_x`` = vocabulary size) and predicts the
next (``n_y`` = vocabulary size) with an RNN, LSTM or GRU. Its gradients come from
:mod:`jaxrnn.custom_vjp`, so ``jax.grad`` runs the documents' manual backward; an Optax chain
clips them by their global norm and applies them (Adam by default). The shipped corpus is a
list of dinosaur names.

>>> import jaxrnn
>>> model = train("gru", steps=3, progress=False)
>>> len(model.losses), sorted(model.parameters) == sorted(jaxrnn.cells.GRU.parameter_keys)
(3, True)
"""

from __future__ import annotations

import importlib.util
import math
import numbers
import pathlib
import zipfile
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn import custom_vjp, parallel
from jaxrnn._core.arguments import flag, integer
from jaxrnn._core.cell import Cell
from jaxrnn.cells import CELLS, resolve

CORPUS = pathlib.Path(__file__).with_name("dinosaurs.txt")


@dataclass(frozen=True)
class Vocabulary:
    chars: str

    @classmethod
    def of(cls, text: str) -> Vocabulary:
        return cls("".join(sorted(set(text))))

    def encode(self, text: str) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.chars)}
        return np.array([index[c] for c in text], np.int32)

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    def __len__(self) -> int:
        return len(self.chars)


def load_corpus(path=CORPUS) -> str:
    """The corpus, lower-cased, one name per line."""
    return pathlib.Path(path).read_text().lower()


def _finite_positive(fn: str, name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{fn}: `{name}` must be a positive number; got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{fn}: `{name}` must be finite; got {value!r}")
    return float(value)


def init_parameters(cell, vocabulary_size: int, n_a: int, seed: int = 0) -> dict:
    """Gaussian weights scaled by ``1/sqrt(fan_in)``, zero biases (the LSTM's forget bias 1)."""
    spec = resolve("init_parameters", cell)
    rng = np.random.default_rng(seed)
    parameters = {}
    for key, shape in spec.shapes(vocabulary_size, n_a, vocabulary_size).items():
        if shape[1] == 1:
            parameters[key] = np.full(shape, 1.0 if key == "bf" else 0.0, np.float32)
        else:
            parameters[key] = (rng.standard_normal(shape) / math.sqrt(shape[1])).astype(np.float32)
    return parameters


def batch(ids: np.ndarray, vocabulary_size: int, m: int, T: int, rng: np.random.Generator):
    """``m`` random windows of ``T + 1`` characters: one-hot ``x (V, m, T)``, labels ``(m, T)``."""
    starts = rng.integers(0, len(ids) - T - 1, m)
    return _windows(ids, vocabulary_size, starts, T)


def _windows(ids, vocabulary_size: int, starts, T: int):
    windows = np.stack([ids[s : s + T + 1] for s in starts])  # (m, T + 1)
    x = np.eye(vocabulary_size, dtype=np.float32)[windows[:, :-1]].transpose(2, 0, 1)
    return x, windows[:, 1:]


class Streams:
    """``m`` readers of the corpus, spread over it, each reading on from where its last chunk
    of ``T`` characters ended: truncated backpropagation through time, whose state carries
    from one chunk to the next (as min-char-rnn's ``hprev`` does). A reader that would run off
    the end starts again at a random place, with its state reset (so that no pass over the
    corpus cuts it into the same chunks as the last)."""

    def __init__(self, ids: np.ndarray, vocabulary_size: int, m: int, T: int, rng):
        self.ids, self.V, self.T, self.rng = ids, vocabulary_size, T, rng
        self.span = len(ids) - T - 1
        self.positions = (np.arange(m) * self.span) // m

    def next(self):
        """``(x (V, m, T), labels (m, T), fresh (m,))``: ``fresh`` marks the readers that start
        again, whose carried state is to be reset."""
        fresh = self.positions + self.T + 1 > len(self.ids)
        again = self.rng.integers(0, self.span, len(self.positions))
        self.positions = np.where(fresh, again, self.positions)
        x, labels = _windows(self.ids, self.V, self.positions, self.T)
        self.positions = self.positions + self.T
        return x, labels, fresh


def cross_entropy(cell, parameters, x, labels, states=None):
    """J: the cross-entropy of the next character, summed over time, divided by ``m``.

    The predictions come from the custom-VJP forward, so ``jax.grad`` of this runs the manual
    backward (the softmax's VJP (L9), the output layer's (L5)-(L7), then the cell's equations).
    ``states`` (a tuple, one per state of the cell) is where the sequence starts, zeros by
    default.
    """
    return _loss_and_last_states(cell, parameters, x, labels, states)[0]


def _loss_and_last_states(cell, parameters, x, labels, states=None):
    """``(J, the states after the last step)``: what the next chunk starts from."""
    cell = resolve("cross_entropy", cell)
    n_a, m = parameters[cell.output[0]].shape[1], x.shape[1]
    if states is None:
        states = tuple(jnp.zeros((n_a, m), x.dtype) for _ in cell.state)
    a0, *others = states
    initial = dict(zip((f"{s}0" for s in cell.state[1:]), others, strict=True))
    a, y_pred, *rest = custom_vjp.of(cell)(x, a0, parameters, **initial)
    picked = jnp.take_along_axis(y_pred, labels[None], axis=0)[0]  # (m, T)
    J = -jnp.sum(jnp.log(jnp.maximum(picked, jnp.finfo(picked.dtype).tiny))) / m
    return J, tuple(s[:, :, -1] for s in (a, *rest))


#: the optimizers ``train`` offers: Optax's, each after clipping by the global norm
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")


def make_optimizer(name: str, learning_rate: float, max_norm: float):
    """An Optax chain: gradients clipped by their global norm to ``max_norm``, then ``name``.

    Optax is a demo dependency (``pip install 'jaxrnn[demo]'``), imported here when training
    starts.
    """
    try:
        import optax
    except ImportError as err:
        raise ImportError(
            "jaxrnn.demo.charlm trains with Optax: pip install 'jaxrnn[demo]' (or pip "
            "install optax)"
        ) from err
    if name not in OPTIMIZERS:
        raise ValueError(f"charlm: unknown optimizer {name!r}; choose one of {list(OPTIMIZERS)}")
    return optax.chain(optax.clip_by_global_norm(max_norm), getattr(optax, name)(learning_rate))


@dataclass
class Model:
    #: a built-in cell's name, or the :class:`jaxrnn.Cell` of your own it was trained with
    cell: str | Cell
    vocabulary: Vocabulary
    parameters: dict
    losses: list = field(default_factory=list)


def train(
    cell: str | Cell = "gru",
    steps: int = 2000,
    n_a: int = 64,
    m: int = 32,
    T: int = 25,
    learning_rate: float = 1e-2,
    max_norm: float = 5.0,
    seed: int = 0,
    corpus=CORPUS,
    progress: bool = True,
    optimizer: str = "adam",
    carry: bool = False,
    mesh=None,
) -> Model:
    """Train a character model; ``Model.losses`` holds J (per sequence of ``T``) per step.

    Gradients come from ``jax.grad`` through :mod:`jaxrnn.custom_vjp` (the manual backward),
    clipped by their global norm to ``max_norm`` and applied by the Optax optimizer
    ``optimizer`` (:data:`OPTIMIZERS`) at ``learning_rate``. By default every step reads ``m``
    random windows of ``T`` characters from zero states; with ``carry``, ``m`` readers go
    through the corpus in chunks of ``T``, each chunk starting from the state the last one
    ended with (truncated backpropagation through time, :class:`Streams`). With ``mesh``
    (:func:`jaxrnn.parallel.batch_mesh`, over the devices of one process or of several), each
    global batch of ``m`` is split over its devices: every process builds the batch alike and
    feeds its own part (:func:`jaxrnn.parallel.local_part`), each device takes the gradients of
    its own examples, and they are averaged across devices once a step; the losses are those
    of one process with the same batch, to rounding. Every argument is checked before any
    work: a bad one raises ``ValueError`` or ``TypeError`` naming it.
    """
    fn = "charlm.train"
    cell = cell if isinstance(cell, Cell) else resolve(fn, cell).name
    steps, seed = integer(fn, "steps", steps, 0), integer(fn, "seed", seed, 0)
    n_a, m, T = (integer(fn, k, v, 1) for k, v in [("n_a", n_a), ("m", m), ("T", T)])
    learning_rate = _finite_positive(fn, "learning_rate", learning_rate)
    max_norm = _finite_positive(fn, "max_norm", max_norm)
    transform = make_optimizer(optimizer, learning_rate, max_norm)
    if mesh is not None:
        if not isinstance(mesh, jax.sharding.Mesh) or "batch" not in mesh.shape:
            raise TypeError(
                f"{fn}: `mesh` must be a jax.sharding.Mesh with an axis 'batch' "
                f"(jaxrnn.parallel.batch_mesh()); got {mesh!r}"
            )
        if m % mesh.shape["batch"]:
            raise ValueError(
                f"{fn}: `m` ({m}) must be a multiple of the mesh's {mesh.shape['batch']} devices, "
                f"over which each batch is split"
            )
    text = load_corpus(corpus)
    if len(text) < T + 2:
        raise ValueError(
            f"{fn}: the corpus {str(corpus)!r} has {len(text)} characters; training on windows "
            f"of T + 1 = {T + 1} needs at least {T + 2}"
        )
    vocabulary = Vocabulary.of(text)
    ids = vocabulary.encode(text)
    parameters = {
        k: jnp.asarray(v) for k, v in init_parameters(cell, len(vocabulary), n_a, seed).items()
    }
    carry = flag(fn, "carry", carry)

    def gradients_of(parameters, x, labels_by_step, states, fresh):
        labels = labels_by_step.T  # (m, T): placed as (T, m), the batch on axis 1
        states = tuple(jnp.where(fresh, 0.0, s) for s in states)  # readers that start again

        def loss(p):
            return _loss_and_last_states(cell, p, x, labels, states)

        (J, last), gradients = jax.value_and_grad(loss, has_aux=True)(parameters)
        if mesh is not None:  # J is a mean over examples: over equal parts, the parts' mean
            J, gradients = jax.lax.pmean((J, gradients), "batch")
        return J, last, gradients

    if mesh is not None:  # each device its own examples; the gradients averaged once a step
        split, whole = jax.sharding.PartitionSpec(None, "batch"), jax.sharding.PartitionSpec()
        gradients_of = jax.shard_map(
            gradients_of, mesh=mesh, check_vma=False,
            in_specs=(whole, jax.sharding.PartitionSpec(None, "batch", None), split, split, split),
            out_specs=(whole, split, whole),
        )  # fmt: skip

    @jax.jit
    def update(parameters, state, x, labels_by_step, states, fresh):
        J, last, gradients = gradients_of(parameters, x, labels_by_step, states, fresh)
        updates, state = transform.update(gradients, state, parameters)
        # the next chunk starts from where this one ended, as a constant: truncated there
        return jax.tree.map(jnp.add, parameters, updates), state, J, jax.lax.stop_gradient(last)

    def place(*arrays):
        """The global batch's arrays (batch on axis 1), split over the mesh where there is one."""
        if mesh is None:
            return arrays
        return parallel.shard_batch(mesh, *parallel.local_part(mesh, *arrays))

    if mesh is not None:
        parameters = parallel.replicate(mesh, parameters)
    state = transform.init(parameters)
    rng = np.random.default_rng(seed)
    streams = Streams(ids, len(vocabulary), m, T, rng) if carry else None
    n_state = len(resolve(fn, cell).state)
    states = place(*(np.zeros((n_a, m), np.float32) for _ in range(n_state)))
    bar = _progress(steps, progress)
    losses, smooth = [], None
    for _ in bar:
        if streams is None:  # random windows, each from zero states
            (x, labels), fresh = batch(ids, len(vocabulary), m, T, rng), np.ones(m, bool)
        else:
            x, labels, fresh = streams.next()
        x, labels_by_step, fresh = place(x, labels.T, fresh[None])
        parameters, state, J, states = update(parameters, state, x, labels_by_step, states, fresh)
        losses.append(float(J))
        smooth = losses[-1] if smooth is None else 0.98 * smooth + 0.02 * losses[-1]
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{smooth:.2f}", refresh=False)
    if mesh is not None:  # whole, on this process's default device
        parameters = {k: jnp.asarray(v) for k, v in parallel.gather(parameters).items()}
    return Model(cell, vocabulary, parameters, losses)


def _progress(steps: int, progress: bool):
    if progress:
        try:
            from tqdm import tqdm
        except ImportError:  # tqdm is a demo extra: train quietly without it
            pass
        else:
            # a notebook's widget bar needs ipywidgets; without it tqdm.auto warns, so text
            if importlib.util.find_spec("ipywidgets") is not None:
                from tqdm.auto import tqdm
            return tqdm(range(steps), desc="training", unit="step")
    return range(steps)


def sample(model: Model, n_chars: int = 200, seed: int = 0, first: str = "\n") -> str:
    """Draw ``n_chars`` characters, one step at a time, as a ``lax.scan`` over the draws.

    ``first`` is the character the model reads first (a newline starts a name).
    """
    fn = "charlm.sample"
    n_chars, seed = integer(fn, "n_chars", n_chars, 0), integer(fn, "seed", seed, 0)
    if not isinstance(first, str) or len(first) != 1 or first not in model.vocabulary.chars:
        raise ValueError(
            f"{fn}: `first` must be one character of the model's vocabulary "
            f"{model.vocabulary.chars!r}; got {first!r}"
        )
    if n_chars == 0:
        return ""
    spec = resolve(fn, model.cell)
    V = len(model.vocabulary)
    n_a = model.parameters[spec.output[0]].shape[1]
    eye = jnp.eye(V, dtype=jnp.float32)

    def step(carry, key):
        state, char = carry
        *state, yt_pred, _ = spec.cell_forward(eye[char][:, None], *state, model.parameters)
        char = jax.random.categorical(key, jnp.log(yt_pred[:, 0] + 1e-30))
        return (tuple(state), char), char

    state0 = tuple(jnp.zeros((n_a, 1)) for _ in spec.state)
    first_id = int(model.vocabulary.encode(first)[0])
    keys = jax.random.split(jax.random.PRNGKey(seed), n_chars)
    _, chars = jax.lax.scan(step, (state0, jnp.asarray(first_id)), keys)
    return model.vocabulary.decode(np.asarray(chars))


def save(model: Model, path) -> None:
    """Write the parameters, cell and vocabulary to ``path``, as ``.npz`` (plain arrays, no
    pickle), under exactly that name."""
    arrays = {f"parameter_{k}": np.asarray(v) for k, v in model.parameters.items()}
    with open(path, "wb") as file:
        name = resolve("charlm.save", model.cell).name
        np.savez(file, cell=np.array(name), vocabulary=np.array(model.vocabulary.chars),
                 losses=np.array(model.losses, np.float64), **arrays)  # fmt: skip


def load(path, cell: Cell | None = None) -> Model:
    """Read a model written by :func:`save`; the arrays come back bit for bit. A model of a
    cell of your own needs that ``cell``.

    A file that is not such a model (empty, truncated, another file, or one whose cell,
    parameters or vocabulary do not fit together) raises ``ValueError`` naming the file and
    what is wrong with it.
    """

    def bad(why: str) -> ValueError:
        return ValueError(f"charlm.load: {str(path)!r} is not a jaxrnn character model: {why}")

    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise bad(f"not a readable .npz archive ({type(err).__name__}: {err})") from None
    missing = [k for k in ("cell", "vocabulary", "losses") if k not in arrays]
    if missing:
        raise bad(f"it has no {', '.join(missing)} (it holds {sorted(arrays)})")
    name = str(arrays["cell"])
    if cell is not None and cell.name != name:
        raise bad(f"its cell is {name!r}, not the {cell.name!r} given")
    if cell is None and name not in CELLS:
        raise bad(
            f"unknown cell {name!r}; the known cells are {sorted(CELLS)} (for a cell of your "
            f"own, pass cell=...)"
        )
    cell = cell or name
    vocabulary = Vocabulary(str(arrays["vocabulary"]))
    parameters = {
        k[len("parameter_") :]: v for k, v in arrays.items() if k.startswith("parameter_")
    }
    spec = resolve("charlm.load", cell)
    if sorted(parameters) != sorted(spec.parameter_keys):
        raise bad(
            f"a {spec.name} model has parameters {sorted(spec.parameter_keys)}; the file has "
            f"{sorted(parameters)}"
        )
    if not vocabulary.chars or "\n" not in vocabulary.chars:
        raise bad(f"its vocabulary {vocabulary.chars!r} lacks the newline that starts a name")
    V = len(vocabulary)
    n_a = parameters[spec.output[0]].shape[-1] if parameters[spec.output[0]].ndim else 0
    expected = spec.shapes(V, max(n_a, 1), V)
    wrong = {k: v.shape for k, v in parameters.items() if v.shape != expected[k]}
    if wrong or n_a < 1:
        want = {k: expected[k] for k in wrong}
        raise bad(
            f"its parameters do not fit a vocabulary of {V} characters and n_a = {n_a}: "
            f"{wrong} (expected {want})"
        )
    return Model(cell, vocabulary, parameters, arrays["losses"].tolist())


__all__ = ["Model", "Vocabulary", "load", "sample", "save", "train"]
