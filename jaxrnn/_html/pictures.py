"""The reports' pictures, drawn by matplotlib (``pip install 'jaxrnn[html]'``) as inline SVG:
a gradient's error entry by entry, a sequence's error step by step, and errors against their
tolerances. Each returns ``None`` where matplotlib is not installed; the page then says so.

matplotlib is used through its object interface only (no ``pyplot``), inside an
``rc_context``: drawing changes no global state of the caller's.
"""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np

from jaxrnn.gradcheck.where import AXES, BLOCKS

#: what the page says where matplotlib is missing
MISSING = "pictures need matplotlib: pip install 'jaxrnn[html]'"
#: errors are drawn on a log scale; an exact zero at this floor
FLOOR = 1e-17
#: drawing settings: text kept as text (small, selectable), reproducible ids, no date
_RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "jaxrnn",
    "font.size": 9,
    "axes.titlesize": 10,
    "figure.dpi": 100,
}


def available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def _figure(width: float, height: float, margins=(0.8, 0.55, 0.2, 0.25)):
    """A figure of ``width`` by ``height`` inches and its axes, ``margins`` (left, bottom,
    right, top) inches from its edges: fixed, since a layout engine costs more than the rest
    of the drawing."""
    import matplotlib
    from matplotlib.figure import Figure

    left, bottom, right, top = margins
    with matplotlib.rc_context(_RC):
        figure = Figure(figsize=(width, height))
        axes = figure.add_axes((left / width, bottom / height, 1 - (left + right) / width,
                                1 - (bottom + top) / height))  # fmt: skip
        yield figure, axes


def _svg(figure) -> str:
    """The figure as an ``<svg>`` element, without the XML prologue."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def relative_error(got, want) -> np.ndarray:
    """``|got - want| / max |want|``, entry by entry (``inf`` where ``got`` is not finite)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    scale = float(np.max(np.abs(want), initial=0.0)) or 1.0
    error = np.abs(got - want) / scale
    return np.where(np.isfinite(error), error, np.inf)


def _axis_names(dims: str | None, shape) -> list[str]:
    names = dims.split() if dims else []
    if len(names) != len(shape):
        return [f"axis {i}" for i in range(len(shape))]
    return [f"column of [{'; '.join(BLOCKS.get(p, p) for p in n.split('+'))}]" if "+" in n
            else "" if n.isdigit() else AXES.get(n, n) for n in names]  # fmt: skip


def _boundary(dims: str | None, shape) -> int | None:
    """Where a weight's columns turn from ``a_prev`` to ``xt`` (``n_a n_a+n_x``)."""
    names = dims.split() if dims else []
    if len(names) == 2 and names[1] == "n_a+n_x" and names[0] == "n_a":
        return shape[0]
    return None


def entries(got, want, dims: str | None = None, worst=None) -> str | None:
    """A heatmap of the error entry by entry, the worst entry boxed. A gradient of three axes
    ``(rows, m, T)`` is drawn by example and step (its worst row each); a weight's columns
    are split where ``[a_prev; xt]`` turns from one to the other."""
    if not available():
        return None
    error = relative_error(got, want)
    names = _axis_names(dims, error.shape)
    boundary = _boundary(dims, error.shape)
    if error.ndim == 0:
        return None
    if error.ndim == 1:
        error, names = error[:, None], [names[0], ""]
        worst = None if worst is None else (worst[0], 0)
    elif error.ndim == 3:
        error, names = error.max(axis=0), names[1:]
        worst = None if worst is None else tuple(worst[1:])
    elif error.ndim > 3:
        return None
    rows, columns = error.shape
    finite = error[np.isfinite(error)]
    top = float(finite.max(initial=0.0)) or 1.0
    width = min(7.0, 2.6 + 0.28 * columns)
    height = min(4.5, 1.3 + 0.28 * rows)
    with _figure(width, height, (0.8, 0.55, 1.3, 0.3)) as (figure, axes):
        image = axes.imshow(np.where(np.isfinite(error), error, top), cmap="magma_r",
                            vmin=0.0, vmax=top, aspect="auto", interpolation="nearest")  # fmt: skip
        axes.set_ylabel(names[0])
        axes.set_xlabel(names[1])
        for axis in (axes.xaxis, axes.yaxis):
            axis.get_major_locator().set_params(integer=True)
        if boundary is not None:
            axes.axvline(boundary - 0.5, color="#2a7fbf", linewidth=1.5)
            axes.text(boundary / 2 - 0.5, -0.7, "a_prev", ha="center", fontsize=8)
            axes.text((boundary + columns) / 2 - 0.5, -0.7, "xt", ha="center", fontsize=8)
        if worst is not None and len(worst) == 2:
            from matplotlib.patches import Rectangle

            y, x = worst
            axes.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="#00b3b3",
                                     linewidth=2.0))  # fmt: skip
        bar = figure.add_axes((1 - 1.15 / width, 0.55 / height, 0.12 / width, 1 - 0.85 / height))
        colorbar = figure.colorbar(image, cax=bar)
        colorbar.set_label("|error| / max |true|")
        return _svg(figure)


def per_step(got, want) -> np.ndarray:
    """The error of each time step (the last axis): its worst entry over ``max |want|``."""
    error = relative_error(got, want)
    return error.reshape(-1, error.shape[-1]).max(axis=0)


def steps(curves: dict, first: int | None = None) -> str | None:
    """The error step by step, one curve per ``{label: (got, want)}``, log scale, the first
    step that departs marked."""
    if not available() or not curves:
        return None
    with _figure(6.0, 2.8, (0.9, 0.5, 0.15, 0.15)) as (figure, axes):
        top = 1.0
        for (label, (got, want)), style in zip(curves.items(), ("o-", "s--", "^:"), strict=False):
            error = np.maximum(per_step(got, want), FLOOR)
            error = np.where(np.isfinite(error), error, 1e3)
            top = max(top, float(error.max()))
            axes.semilogy(np.arange(error.size), error, style, label=label, markersize=4)
        if first is not None:
            axes.axvline(first, color="#a3201b", linestyle="--", linewidth=1)
            axes.annotate(f"first departs: t = {first}", (first, 1), color="#a3201b",
                          xycoords=("data", "axes fraction"), xytext=(4, -12),
                          textcoords="offset points")  # fmt: skip
        axes.set_xlabel("time step t")
        axes.set_ylabel("max |error| / max |true|")
        axes.set_ylim(FLOOR / 2, top * 10)
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.legend(loc="best", fontsize=8)
        return _svg(figure)


def ratios(rows: list) -> str | None:
    """Errors against their tolerances: one line per ``(label, [(what, error / tolerance)])``,
    log scale, the tolerance at 1; a point right of it is wrong."""
    if not available() or not rows:
        return None
    with _figure(7.0, 0.9 + 0.22 * len(rows), (2.2, 0.55, 0.15, 0.1)) as (figure, axes):
        for y, (_, points) in enumerate(rows):
            values = [max(r, FLOOR) for _, r in points if r is not None and np.isfinite(r)]
            colours = ["#a3201b" if v > 1 else "#1a6b2c" for v in values]
            axes.scatter(values, [y] * len(values), s=12, c=colours, marker="o", linewidths=0)
        axes.axvline(1.0, color="#333", linewidth=1)
        axes.set_xscale("log")
        axes.set_yticks(range(len(rows)), [label for label, _ in rows], fontsize=7)
        axes.invert_yaxis()
        axes.set_xlabel("error / tolerance (each gradient and opinion; right of 1 is wrong)")
        return _svg(figure)


def size(svg: str) -> tuple[float, float]:
    """The width and height an SVG of these says it has, in points."""
    found = re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    return (float(found[1]), float(found[2])) if found else (0.0, 0.0)


__all__: list[str] = []
