"""Forward + backward speed of recurrent networks, jaxrnn beside its peers, in one process.

    python benchmarks/bench.py [--cells lstm rnn gru] [--sizes small middle large] [--seconds 2]

On a GPU (JAX's default backend ``gpu``) the same script times everything there: the JAX inputs
live on the device, and torch runs on CUDA, its LSTM/RNN/GRU on cuDNN. Add ``--sizes xlarge``
for a size beyond the issue's three, and ``--no-numpy`` to leave out the CPU loop.

For each cell and size (n_x, n_a, m, T) it times, float32, the forward over the whole sequence
followed by the backward of ``J = sum(da * a)``:

* ``jaxrnn manual``: ``backward(da, forward(x, a0, p)[-1])``, the documents' API, jitted;
* ``manual, Eigen dots``: the same, jitted with ``compiler_options=EIGEN_DOTS``, which on the
  CPU sends XLA's matrix products through Eigen instead of YNNPACK (a user's choice for their
  own ``jit``; jaxrnn sets no compiler options);
* ``jaxrnn custom_vjp``: ``jax.grad`` through :mod:`jaxrnn.custom_vjp` (also the manual backward);
* ``manual, generic path``: the same cell without its fast path (``cell.generic``): one scan each
  way over the documents' cell functions, as a cell of your own runs: what the fast path is
  worth;
* ``jax.grad(jaxrnn fwd)``: JAX's own autodiff of jaxrnn's forward;
* ``NumPy loop``: :mod:`jaxrnn.course.reference`, the documents' loops;
* ``Flax``: ``nn.RNN`` of ``OptimizedLSTMCell`` / ``SimpleCell`` / ``GRUCell`` (if installed);
* ``torch``: ``torch.nn.LSTM`` / ``RNN`` / ``GRU`` (if installed; ``pip install ".[bench]"``), on
  the GPU when JAX's backend is one and torch sees CUDA. On the CPU torch runs its LSTM as
  oneDNN's RNN primitive, one fused kernel for the whole sequence each way; the row
  ``torch.nn, no oneDNN`` turns that off (``torch.backends.mkldnn.flags``), leaving the op-by-op
  path that torch's RNN and GRU always take.

Each time is the median of repeated calls after a first, compiling call; the candidates of one
size take turns, five rounds of ``--seconds / 5`` each, so that the machine's slow and fast
spells fall on all of them alike. ``ratio`` is that median over jaxrnn manual's. The FLOP
floor is the matrix-product work (forward, plus twice that for the backward) at the rate a large
matmul reaches on this machine. Flax's and torch's GRUs are the "reset after" variant: the same
cost, not the same function.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

# JAX would otherwise take 75% of a GPU's memory at start-up, leaving torch little beside it
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxrnn  # noqa: E402
from jaxrnn import custom_vjp  # noqa: E402
from jaxrnn.cells import CELLS  # noqa: E402
from jaxrnn.course import reference as numpy_reference

SIZES = {"small": (3, 5, 10, 7), "middle": (64, 128, 32, 100), "large": (128, 256, 64, 200),
         "xlarge": (256, 512, 128, 400)}  # fmt: skip
DEFAULT_SIZES = ("small", "middle", "large")
NO_ONEDNN = "torch.nn, no oneDNN"
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
#: XLA:CPU compiler options that leave out its YNNPACK dot fusions, so products run on Eigen
EIGEN_DOTS = {"xla_cpu_experimental_ynn_fusion_type": ""}


def median_time(fn, seconds: float, minimum: int = 5) -> tuple[float, float]:
    """(compile/first-call time, median of the repeated calls) in seconds."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    return first, statistics.median(_repeat(fn, seconds, minimum))


def _repeat(fn, seconds: float, minimum: int) -> list[float]:
    times = []
    deadline = time.perf_counter() + seconds
    while len(times) < minimum or time.perf_counter() < deadline:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        if len(times) >= 2000:
            break
    return times


def interleaved_times(candidates: dict, seconds: float, rounds: int = 5) -> dict:
    """``{label: (first-call time, median)}``, the candidates timed in turn, ``rounds`` times.

    Each gets ``seconds / rounds`` per round (at least 3 calls); its median is over all its
    calls. Taking turns spreads the machine's slow and fast spells over every candidate alike,
    so their ratios are steadier than when each is timed in one block.
    """
    first = {}
    for label, fn in candidates.items():
        start = time.perf_counter()
        fn()
        first[label] = time.perf_counter() - start
    times = {label: [] for label in candidates}
    for _ in range(rounds):
        for label, fn in candidates.items():
            times[label] += _repeat(fn, seconds / rounds, 3)
    return {label: (first[label], statistics.median(times[label])) for label in candidates}


def matmul_rate(seconds: float) -> float:
    """FLOP/s of a 2048 x 2048 float32 matrix product through XLA on this machine."""
    a = jnp.asarray(np.random.default_rng(0).standard_normal((2048, 2048), np.float32))
    f = jax.jit(lambda a: a @ a)
    _, t = median_time(lambda: f(a).block_until_ready(), seconds)
    return 2 * 2048**3 / t


def flops(cell: str, n_x, n_a, m, T) -> float:
    forward = 2 * GATES[cell] * n_a * (n_a + n_x) * m * T
    return 3 * forward  # the backward does two products of the forward's size per gate


def jax_candidates(name, x, a0, p, da):
    cell = CELLS[name]
    # on the device before timing: a NumPy argument would be copied to a GPU on every call
    x, a0, da = (jnp.asarray(v) for v in (x, a0, da))
    manual = jax.jit(lambda x, a0, p, da: cell.backward(da, cell.forward(x, a0, p)[-1]))
    through_vjp = jax.jit(
        jax.grad(
            lambda x, a0, p, da: jnp.sum(da * getattr(custom_vjp, name)(x, a0, p)[0]), (0, 1, 2)
        )
    )
    autodiff = jax.jit(
        jax.grad(lambda x, a0, p, da: jnp.sum(da * cell.forward(x, a0, p)[0]), (0, 1, 2))
    )
    generic = jax.jit(
        lambda x, a0, p, da: cell.generic.backward(da, cell.generic.forward(x, a0, p)[-1])
    )
    run = lambda f: lambda: jax.block_until_ready(f(x, a0, p, da))  # noqa: E731
    candidates = {"jaxrnn manual": run(manual), "jaxrnn custom_vjp": run(through_vjp),
                  "jax.grad(jaxrnn fwd)": run(autodiff),
                  "manual, generic path": run(generic)}  # fmt: skip
    if jax.default_backend() == "cpu":
        eigen = jax.jit(manual.__wrapped__, compiler_options=EIGEN_DOTS)
        candidates["manual, Eigen dots"] = run(eigen)
    return candidates


def numpy_candidate(name, x, a0, p, da):
    forward = getattr(numpy_reference, CELLS[name].forward.__name__)
    backward = getattr(numpy_reference, CELLS[name].backward.__name__)
    return lambda: backward(da, forward(x, a0, p)[-1])


def flax_candidate(name, n_x, n_a, m, T, x, da):
    try:
        import flax.linen as nn
    except ImportError:
        return None
    cell = {"lstm": nn.OptimizedLSTMCell, "rnn": nn.SimpleCell, "gru": nn.GRUCell}[name](n_a)
    model = nn.RNN(cell)
    xb = jnp.asarray(np.moveaxis(x, [1, 2], [0, 1]))  # (m, T, n_x): batch-major, as Flax wants
    dab = jnp.asarray(np.moveaxis(da, [1, 2], [0, 1]))
    params = model.init(jax.random.PRNGKey(0), xb)
    f = jax.jit(jax.grad(lambda params, xb: jnp.sum(dab * model.apply(params, xb)), (0, 1)))
    return lambda: jax.block_until_ready(f(params, xb))


def torch_device() -> str | None:
    """Where torch runs beside JAX: ``"cuda"`` when JAX is on a GPU and torch sees one."""
    try:
        import torch
    except ImportError:
        return None
    return "cuda" if jax.default_backend() == "gpu" and torch.cuda.is_available() else "cpu"


def torch_candidate(name, n_x, n_a, m, T, x, da, onednn=True):
    """``torch.nn``'s cell forward + backward; ``onednn=False`` turns off, for the CPU LSTM, the
    oneDNN RNN primitive (one fused kernel per direction), leaving torch's op-by-op path."""
    device = torch_device()
    if device is None:
        return None
    import torch

    # torch.backends.mkldnn.flags warns about an Intel-GPU feature on every CPU build
    warnings.filterwarnings("ignore", message="TF32 acceleration on top of oneDNN")
    module = {"lstm": torch.nn.LSTM, "rnn": torch.nn.RNN, "gru": torch.nn.GRU}[name](n_x, n_a)
    module = module.to(device)
    xt = torch.tensor(  # (T, m, n_x)
        np.ascontiguousarray(x.transpose(2, 1, 0)), device=device, requires_grad=True
    )
    dat = torch.tensor(np.ascontiguousarray(da.transpose(2, 1, 0)), device=device)
    # CUDA runs asynchronously: a call is over when the device is done, as for JAX's block
    finish = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def step():
        module.zero_grad()
        xt.grad = None
        with torch.backends.mkldnn.flags(enabled=onednn):
            out, _ = module(xt)
            (out * dat).sum().backward()
        finish()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", default=["lstm", "rnn", "gru"])
    parser.add_argument("--sizes", nargs="+", choices=list(SIZES), default=list(DEFAULT_SIZES))
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--no-numpy", action="store_true", help="skip the (slow) NumPy loop")
    args = parser.parse_args()

    rate = matmul_rate(args.seconds)
    device = jax.devices()[0].device_kind
    backend = f"{jax.default_backend()} ({device})"
    print(f"jaxrnn {jaxrnn.__version__}, jax {jax.__version__}, {backend}; "
          f"2048^2 float32 matmul {rate / 1e9:.0f} GFLOP/s")  # fmt: skip
    torch_on = torch_device()
    if torch_on is None:
        print("torch not installed: its rows are skipped (pip install '.[bench]')")
    else:
        import torch

        where = (
            f"CUDA, cuDNN {torch.backends.cudnn.version()}"
            if torch_on == "cuda"
            else f"{torch.get_num_threads()} threads"
        )
        print(f"torch {torch.__version__}, {where}")
    torch_label = "torch.nn (cuDNN)" if torch_on == "cuda" else "torch.nn"
    header = (
        f"{'cell':5} {'size (n_x,n_a,m,T)':22} {'implementation':22} "
        f"{'median':>10} {'ratio':>7} {'compile':>9}"
    )
    print(header)
    print("-" * len(header))
    for name in args.cells:
        for size in args.sizes:
            n_x, n_a, m, T = SIZES[size]
            rng = np.random.default_rng(0)
            p = CELLS[name].random_parameters(
                rng, n_x, n_a, 10, np.float32, scale=1 / np.sqrt(n_a + n_x)
            )
            x = rng.standard_normal((n_x, m, T)).astype(np.float32)
            a0 = np.zeros((n_a, m), np.float32)
            da = rng.standard_normal((n_a, m, T)).astype(np.float32)
            candidates = jax_candidates(name, x, a0, {k: jnp.asarray(v) for k, v in p.items()}, da)
            if not args.no_numpy:
                candidates["NumPy loop"] = numpy_candidate(name, x, a0, p, da)
            for label, make in [("Flax nn.RNN", flax_candidate), (torch_label, torch_candidate)]:
                candidate = make(name, n_x, n_a, m, T, x, da)
                if candidate is not None:
                    candidates[label] = candidate
            if torch_on == "cpu" and name == "lstm":  # only the LSTM has oneDNN's fused kernel
                candidates[NO_ONEDNN] = torch_candidate(name, n_x, n_a, m, T, x, da, onednn=False)
            results = interleaved_times(candidates, args.seconds)
            base = results["jaxrnn manual"][1]
            for label, (first, median) in results.items():
                compile_s = (
                    f"{first - median:.2f}s"
                    if label not in ("NumPy loop", torch_label, NO_ONEDNN)
                    else "-"
                )
                print(f"{name:5} {str(SIZES[size]):22} {label:22} {median * 1e3:8.3f}ms "
                      f"{median / base:6.2f}x {compile_s:>9}")  # fmt: skip
            floor = flops(name, n_x, n_a, m, T) / rate
            print(
                f"{name:5} {str(SIZES[size]):22} {'FLOP floor':22} "
                f"{floor * 1e3:8.3f}ms {floor / base:6.2f}x"
            )


if __name__ == "__main__":
    main()
