"""``jaxrnn train``: the character model of :mod:`jaxrnn.demo.charlm`, from the command line."""

from __future__ import annotations

import math
import os
import sys

import jax
import numpy as np

from jaxrnn import cells


def _too_large(name: str, n_a: int, charlm) -> str | None:
    """Why a model of ``n_a`` hidden units cannot train here, or ``None``: its parameters, their
    gradients and the optimizer's two moments alone (float32) must fit in this machine's
    memory (an accelerator's, where JAX has one)."""
    vocabulary = len(set(charlm.load_corpus()))
    shapes = cells.CELLS[name].shapes(vocabulary, n_a, vocabulary)
    needed = 4 * 4 * sum(math.prod(s) for s in shapes.values())
    device = jax.devices()[0]
    stats = device.memory_stats() if device.platform != "cpu" else None
    available = (stats or {}).get("bytes_limit")
    if available is None and hasattr(os, "sysconf"):
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if available is None or needed <= available:
        return None
    return (f"the {name} model's parameters, their gradients and the optimizer's state alone "
            f"take {needed / 2**30:.3g} GiB, more than the {available / 2**30:.3g} GiB of "
            f"memory here")  # fmt: skip


def train(args) -> int:
    """``jaxrnn train``; every argument was checked by the parser, before any work."""
    if args.plot:
        try:
            import matplotlib
        except ImportError:
            print(
                "jaxrnn train: --plot needs matplotlib: pip install 'jaxrnn[demo]'", file=sys.stderr
            )
            return 2
        matplotlib.use("Agg")
        from matplotlib.figure import Figure

        formats = Figure().canvas.get_supported_filetypes()
        if args.plot.suffix.lstrip(".").lower() not in formats:
            print(f"jaxrnn train: --plot {args.plot}: matplotlib writes an image as "
                  f"{', '.join('.' + f for f in sorted(formats))}; the file's name says none of "
                  f"them", file=sys.stderr)  # fmt: skip
            return 2
    from jaxrnn import parallel
    from jaxrnn.demo import charlm

    mesh = None
    if args.distributed or args.processes is not None:
        # before any other JAX work: the run's devices are known once the processes have met
        parallel.initialize(args.coordinator, args.processes, args.process_id)
        mesh = parallel.batch_mesh()
    # after the processes have met, before any training: JAX knows its devices from here
    too_large = _too_large(args.cell, args.hidden, charlm)
    if too_large is not None:
        print(f"jaxrnn train: --hidden {args.hidden}: {too_large}", file=sys.stderr)
        return 2
    # every process trains alike; one speaks (and writes the model) for them all
    lead = jax.process_index() == 0
    say = print if lead else (lambda *a, **k: None)
    untrained = charlm.train(args.cell, steps=0, n_a=args.hidden, seed=args.seed, progress=False)
    names = lambda text, n: ", ".join([w for w in text.split("\n") if w][:n])  # noqa: E731
    say("samples before training:", names(charlm.sample(untrained, 120), 5))
    if mesh is not None:
        say(f"{jax.process_count()} processes, {mesh.shape['batch']} devices: each batch of 32 "
            f"split over them")  # fmt: skip
    T = args.chunk or 25
    try:
        model = charlm.train(
            args.cell, steps=args.steps, n_a=args.hidden, seed=args.seed,
            learning_rate=args.learning_rate, optimizer=args.optimizer, T=T,
            carry=args.chunk is not None, mesh=mesh, progress=lead,
        )  # fmt: skip
    except ValueError as err:  # a batch that the run's devices do not divide
        print(f"jaxrnn train: {err}", file=sys.stderr)
        return 2
    window = min(20, len(model.losses))
    first, last = np.mean(model.losses[:window]), np.mean(model.losses[-window:])
    say(
        f"loss (J per sequence of {T} characters), mean of {window} steps: {first:.2f} at the "
        f"start, {last:.2f} at the end"
    )
    say("samples after training: ", names(charlm.sample(model, 200), 8))
    if not lead:
        return 0
    if args.save:
        charlm.save(model, args.save)
        print(f"saved to {args.save}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(model.losses, lw=0.6)
        ax.set(xlabel="step", ylabel="cross-entropy J", title=f"{args.cell} on dinosaur names")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"loss curve written to {args.plot}")
    return 0


__all__ = [
    "train"
]  # fmt: skip
