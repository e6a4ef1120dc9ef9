"""Classic slips: the ways learners get the documents' exercises wrong, each as one edit.

``jaxrnn check FILE`` names a learner's mistake by matching: a wrong function whose results
equal, to rounding and on every problem checked, those of one of these variants *is* that
slip, and the report gives its equation and its fix. Each variant is the documents' function
in NumPy (:mod:`jaxrnn.course.reference`, the independent reference) with one edit, written
beside the equation it bends: a cell's equation replaced, or one of the loops' choices
(:class:`~jaxrnn.course.reference.Forward`, :class:`~jaxrnn.course.reference.Backward`)
replaced by a small function. The catalogue holds the slips found in real solutions of the
assignment: a gate's derivative left out of eqs. (7)-(10), the whole weight matrix where its
columns belong, a mean for a sum, a loop that carries nothing from step t+1 to step t or never
adds ``da``, a gradient overwritten instead of accumulated, a step skipped, a view kept where
a copy belongs, weights read from outside the cache, a forward fed ``a0`` at every step.

Slips seen by behaviour rather than by value have a ``probe`` instead of a variant: weights
read from notebook globals give the right answer on the documents' test cell and the same
answer whatever the cache's weights are; a loop that hands its cell function the whole caches
makes it raise, which jaxrnn's cell function in its place, checking what it is given, names.

>>> [slip.id for slip in for_exercise(8)]  # doctest: +NORMALIZE_WHITESPACE
['carries-nothing', 'carries-only-c', 'carries-only-a', 'da-never-added', 'overwritten',
 'skips-step-0', 'whole-caches']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from jaxrnn.course import reference as ref
from jaxrnn.course.reference import Backward, Forward


@dataclass(frozen=True)
class Slip:
    """One way to get an exercise wrong.

    Attributes:
        id: a short name, the report's and the JSON's.
        exercise: the exercise it belongs to, 1-8.
        equation: what it bends: ``"(10)"``, or ``"the loop"``.
        says: what is wrong, in one line.
        fix: the hint: how to set it right.
        run: the variant: the exercise's arguments in, its outputs out; ``None`` for a probe
            or an error.
        probe: for a slip seen by behaviour rather than by value (see the module), its name.
        also: further variants of the same slip (made in one place, or in both).
    """

    id: str
    exercise: int
    equation: str
    says: str
    fix: str
    run: Callable | None = None
    probe: str | None = None
    also: tuple = ()

    @property
    def variants(self) -> tuple:
        """Every variant: ``run``, then ``also``."""
        return ((self.run,) if self.run is not None else ()) + tuple(self.also)


# Exercise 5, rnn_cell_backward: eqs. (2)-(8), all from dtanh, eq. (3)


def _rnn_dtanh(edit):
    return lambda da_next, cache: ref.rnn_gradients(edit(da_next, cache[0]), cache)


def _rnn_untransposed(da_next, cache):
    a_next, a_prev, xt, p = cache
    dtanh = da_next * (1 - a_next**2)
    return ref.rnn_gradients(dtanh, cache) | {"da_prev": p["Waa"] @ dtanh}  # eq. (8), no .T


def _rnn_bias_mean(da_next, cache):
    dtanh = da_next * (1 - cache[0] ** 2)
    return ref.rnn_gradients(dtanh, cache) | {"dba": np.mean(dtanh, axis=1, keepdims=True)}  # (6)


# Exercise 7, lstm_cell_backward: eqs. (7)-(10) give the gates' gradients, (11)-(21) the rest


def _lstm_gate(name, edit):
    """lstm_cell_backward with the gate gradient ``name`` of eqs. (7)-(10) as ``edit`` has it."""

    def variant(da_next, dc_next, cache):
        a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p = cache
        z = 1 - np.tanh(c_next) ** 2
        values = dict(da=da_next, dc=dc_next, z=z, ft=ft, it=it, cct=cct, ot=ot, c_prev=c_prev,
                      c_next=c_next)  # fmt: skip
        gates = ref.lstm_gate_gradients(da_next, dc_next, cache) | {name: edit(**values)}
        return ref.lstm_gradients(gates, da_next, dc_next, cache)

    return variant


_GATES = (("Wf", "dft", "dbf"), ("Wi", "dit", "dbi"), ("Wc", "dcct", "dbc"), ("Wo", "dot_", "dbo"))


def _lstm_untransposed(da_next, dc_next, cache):
    n_a, p = cache[0].shape[0], cache[-1]
    gates = ref.lstm_gate_gradients(da_next, dc_next, cache)
    da_prev = sum(p[w][:, :n_a] @ gates[g] for w, g, _ in _GATES)  # eq. (19), no .T
    return ref.lstm_gradients(gates, da_next, dc_next, cache) | {"da_prev": da_prev}


def _lstm_whole_w(*names):
    """Eqs. (19) and (21) (``names``: ``da_prev``, ``dxt`` or both) with the whole weight
    matrices, not their ``a_prev`` or ``xt`` columns: ``W.T @ dgate`` of ``[a_prev; xt]``."""

    def variant(da_next, dc_next, cache):
        p = cache[-1]
        gates = ref.lstm_gate_gradients(da_next, dc_next, cache)
        whole = sum(p[w].T @ gates[g] for w, g, _ in _GATES)
        return ref.lstm_gradients(gates, da_next, dc_next, cache) | dict.fromkeys(names, whole)

    return variant


def _lstm_bias_mean(da_next, dc_next, cache):
    gates = ref.lstm_gate_gradients(da_next, dc_next, cache)
    means = {b: np.mean(gates[g], axis=1, keepdims=True) for _, g, b in _GATES}  # (15)-(18)
    return ref.lstm_gradients(gates, da_next, dc_next, cache) | means


# Exercise 3, lstm_cell_forward: concat = [a_prev; xt], hidden state first


def _lstm_concat_swapped(xt, a_prev, c_prev, parameters):
    """W [xt; a_prev]: the same as W with its two blocks of columns swapped, on [a_prev; xt]."""
    n_x = xt.shape[0]
    swapped = parameters | {
        k: np.concatenate([parameters[k][:, n_x:], parameters[k][:, :n_x]], axis=1)
        for k in ("Wf", "Wi", "Wc", "Wo")
    }
    *outputs, cache = ref.lstm_cell_forward(xt, a_prev, c_prev, swapped)
    return (*outputs, (*cache[:-1], parameters))


# Exercises 2, 4, 6, 8, the loops: each slip one of the documents' choices replaced


def _forward(function, **choices):
    loop = dataclasses.replace(Forward(), **choices)
    return lambda x, a0, parameters: function(x, a0, parameters, loop=loop)


def _backward(function, **choices):
    loop = dataclasses.replace(Backward(), **choices)
    return lambda da, caches: function(da, caches, loop=loop)


def _a_not_carried(step, n_state):
    return [np.zeros_like(step["da_prev"]), *(step["dc_prev"] for _ in range(n_state - 1))]


def _c_not_carried(step, n_state):
    return [step["da_prev"], np.zeros_like(step["dc_prev"])]


def _nothing_carried(step, n_state):
    return [np.zeros_like(step["da_prev"]) for _ in range(n_state)]


def _last_da_prev(carried, step):
    """``da0`` of a loop that never updates its carry: the first step's own ``da_prev``."""
    return step["da_prev"]


def _summed_once(da, n_state):
    return [da.sum(axis=2), *(np.zeros(da.shape[:2]) for _ in range(n_state - 1))]


def _no_upstream(da, t):
    return 0


def _from_step_1(T):
    return range(1, T)


def _from_step_1_reversed(T):
    return reversed(range(1, T))


def _a_from_view(t, states, a0, arrays):
    """``a_prev = a[:, :, t - 1]`` at every step: a view, so step 0 reads the last step's
    column, zeros until the last step writes it, which its cache then shows."""
    return [arrays[0][:, :, t - 1], *states[1:]]


def _c_from_view(a0, arrays):
    """``c_next = c[:, :, 0]`` before the loop: a view, so step 0's cache holds what the
    loop later writes into ``c[:, :, 0]``, its own ``c_next``."""
    return [a0, arrays[1][:, :, 0]]


def _zeros_like(a0, n_state):
    return [np.zeros(a0.shape) for _ in range(n_state)]


def _one_array(n_state, shape):
    array = np.zeros(shape)
    return [array] * n_state


_GLOBALS = "weights-from-globals"
#: what the globals probe says and how to fix it, for both cell backwards
_GLOBALS_SAYS = (
    "reads the weights from outside the cache (a notebook's globals): right on the "
    "documents' test cell, whose weights they are, and unchanged whatever the cache holds"
)
_NO_CARRY = "the gradient from step t+1 is not carried to step t"

_NO_DA = (
    "da[:, :, t] never enters: the cell backward gets only da_prevt, which starts at zeros, "
    "so every gradient is zero"
)
_SKIPS = "range(1, T_x) leaves step 0 out"
_A_VIEW = (
    "a_prev = a[:, :, t-1] keeps a view: at step 0 it reads a[:, :, -1], the last step's "
    "column (zeros, instead of a0), and that step's cache changes when the last step is "
    "stored"
)
_A_VIEW_FIX = "a_next = a0 before the loop, then pass the a_next the cell returned"

#: every slip jaxrnn knows, by exercise
CATALOGUE = (
    # exercise 2, rnn_forward
    Slip("a0-at-every-step", 2, "the loop", "every step starts from a0, not from the previous "
         "step's a_next", "pass the a_next of step t-1 to rnn_cell_forward at step t (a_next = "
         "a0 once, before the loop)",
         _forward(ref.rnn_forward, entering=lambda t, states, a0, arrays: [a0])),
    Slip("a-from-zeros", 2, "the loop", "the first step starts from zeros instead of a0",
         "initialise a_next = a0 before the loop",
         _forward(ref.rnn_forward, first=lambda a0, arrays: [np.zeros(a0.shape)])),
    Slip("skips-step-0", 2, "the loop", f"{_SKIPS}: a[:, :, 0] stays zeros and it has no cache",
         "for t in range(T_x)", _forward(ref.rnn_forward, steps=_from_step_1)),
    Slip("a-view", 2, "the loop", _A_VIEW, _A_VIEW_FIX,
         _forward(ref.rnn_forward, entering=_a_from_view)),
    # exercise 3, lstm_cell_forward
    Slip("concat-swapped", 3, "(1)-(3), (5)", "concat stacks xt above a_prev; the weights act "
         "on [a_prev; xt], hidden state first", "concat = np.concatenate((a_prev, xt), axis=0)",
         _lstm_concat_swapped),
    # exercise 4, lstm_forward
    Slip("c-is-a", 4, "the loop", "a and c are one array (a = c = np.zeros(...)), so a holds "
         "the cell states", "give a and c arrays of their own: a = np.zeros(...); c = "
         "np.zeros(...)", _forward(ref.lstm_forward, arrays=_one_array)),
    Slip("a0-at-every-step", 4, "the loop", "every step starts from a0, not from the previous "
         "step's a_next", "pass the a_next of step t-1 to lstm_cell_forward at step t",
         _forward(ref.lstm_forward,
                  entering=lambda t, states, a0, arrays: [a0, *states[1:]])),
    Slip("c-from-a0", 4, "the loop", "the cell state starts from a0 instead of zeros",
         "c_next = np.zeros((n_a, m)) before the loop: the documents start c at 0",
         _forward(ref.lstm_forward, first=lambda a0, arrays: [a0, a0])),
    Slip("a-from-zeros", 4, "the loop", "the first step starts from zeros instead of a0",
         "initialise a_next = a0 before the loop",
         _forward(ref.lstm_forward, first=lambda a0, arrays: _zeros_like(a0, 2))),
    Slip("skips-step-0", 4, "the loop", f"{_SKIPS}: a[:, :, 0] and c[:, :, 0] stay zeros and it "
         "has no cache", "for t in range(T_x)", _forward(ref.lstm_forward, steps=_from_step_1)),
    Slip("c-view", 4, "the loop", "c_next = c[:, :, 0] keeps a view, not zeros of its own: "
         "step 0's cache holds it as c_prev, and it becomes step 0's c_next when the loop "
         "stores c[:, :, 0]; a, y and c are right, the caches (and the backward) are not",
         "c_next = np.zeros((n_a, m)) before the loop: an array of its own",
         _forward(ref.lstm_forward, first=_c_from_view)),
    Slip("a-view", 4, "the loop", _A_VIEW, _A_VIEW_FIX,
         _forward(ref.lstm_forward, entering=_a_from_view)),
    # exercise 5, rnn_cell_backward
    Slip("tanh-twice", 5, "(3)", "tanh' is taken of a_next, which is already tanh(...): "
         "1 - tanh(a_next)**2", "dtanh = da_next * (1 - a_next**2): a_next is the tanh",
         _rnn_dtanh(lambda da_next, a_next: da_next * (1 - np.tanh(a_next) ** 2))),
    Slip("no-tanh-derivative", 5, "(3)", "dtanh leaves out tanh's derivative (1 - a_next**2)",
         "dtanh = da_next * (1 - a_next**2)", _rnn_dtanh(lambda da_next, a_next: da_next)),
    Slip("waa-untransposed", 5, "(8)", "da_prev multiplies by Waa instead of its transpose",
         "da_prev = np.dot(Waa.T, dtanh)", _rnn_untransposed),
    Slip("bias-mean", 5, "(6)", "dba averages dtanh over the examples (np.mean) instead of "
         "summing it: the loss is already divided by m", "dba = np.sum(dtanh, axis=1, "
         "keepdims=True)", _rnn_bias_mean),
    Slip(_GLOBALS, 5, "(7), (8)", _GLOBALS_SAYS, "read them from the cache: (a_next, a_prev, "
         "xt, parameters) = cache; Wax = parameters['Wax']", probe=_GLOBALS),
    # exercise 6, rnn_backward
    Slip("carries-nothing", 6, "the loop", f"{_NO_CARRY}: da_prevt is never added to "
         "da[:, :, t], or never updated from the step's da_prev",
         "gradients = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t]), then da_prevt = "
         "gradients['da_prev']",
         _backward(ref.rnn_backward, carried=_a_not_carried, da0=_last_da_prev)),
    Slip("da-never-added", 6, "the loop", _NO_DA, "gradients = rnn_cell_backward(da[:, :, t] "
         "+ da_prevt, caches[t]): da[:, :, t] is the gradient reaching a⟨t⟩ from the output",
         _backward(ref.rnn_backward, upstream=_no_upstream)),
    Slip("overwritten", 6, "the loop", "the weight gradients are assigned at each step "
         "(dWax = dWaxt) instead of summed over the steps", "accumulate: dWax += dWaxt, "
         "dWaa += dWaat, dba += dbat",
         _backward(ref.rnn_backward, summed=lambda total, step: step)),
    Slip("da-summed-once", 6, "the loop", "da is summed over time once, into the first step's "
         "gradient, instead of adding da[:, :, t] at each step t",
         "pass da[:, :, t] + da_prevt to rnn_cell_backward at every step",
         _backward(ref.rnn_backward, first=_summed_once, upstream=_no_upstream)),
    Slip("skips-step-0", 6, "the loop", f"{_SKIPS}: dx[:, :, 0] stays zeros, step 0's "
         "gradients are missing and da0 is step 1's da_prev", "for t in reversed(range(T_x))",
         _backward(ref.rnn_backward, steps=_from_step_1_reversed)),
    Slip("whole-caches", 6, "the loop", "rnn_cell_backward is given the whole caches instead "
         "of the step's cache", "(caches, x) = caches before the loop, then pass caches[t]",
         probe="whole-caches"),
    # exercise 7, lstm_cell_backward
    Slip("no-ot-derivative", 7, "(7)", "dot_ leaves out the output gate's sigmoid derivative "
         "ot * (1 - ot)", "dot_ = da_next * np.tanh(c_next) * ot * (1 - ot)",
         _lstm_gate("dot_", lambda da, c_next, **v: da * np.tanh(c_next))),
    Slip("no-cct-derivative", 7, "(8)", "dcct leaves out the candidate's tanh derivative "
         "(1 - cct**2)", "multiply eq. (8) by (1 - cct**2)",
         _lstm_gate("dcct", lambda da, dc, z, it, ot, **v: dc * it + ot * z * it * da)),
    Slip("sigmoid-derivative-for-cct", 7, "(8)", "dcct uses a sigmoid's derivative "
         "cct * (1 - cct) for the candidate, which is a tanh", "multiply by (1 - cct**2)",
         _lstm_gate("dcct", lambda da, dc, z, it, cct, ot, **v: (dc * it + ot * z * it * da)
                    * cct * (1 - cct))),
    Slip("no-it-derivative", 7, "(9)", "dit leaves out the update gate's sigmoid derivative "
         "it * (1 - it)", "multiply eq. (9) by it * (1 - it)",
         _lstm_gate("dit", lambda da, dc, z, cct, ot, **v: dc * cct + ot * z * cct * da)),
    Slip("dit-with-c-prev", 7, "(9)", "dit is eq. (10)'s formula with the update gate: c_prev "
         "where eq. (9) has cct", "eq. (9) multiplies by cct: (dc_next * cct + ot * (1 - "
         "tanh(c_next)**2) * cct * da_next) * it * (1 - it)",
         _lstm_gate("dit", lambda da, dc, z, it, ot, c_prev, **v: (dc * c_prev + ot * z
                    * c_prev * da) * it * (1 - it))),
    Slip("no-ft-derivative", 7, "(10)", "dft leaves out the forget gate's sigmoid derivative "
         "ft * (1 - ft)", "multiply eq. (10) by ft * (1 - ft)",
         _lstm_gate("dft", lambda da, dc, z, ot, c_prev, **v: dc * c_prev + ot * z * c_prev
                    * da)),
    Slip("w-untransposed", 7, "(19)", "da_prev multiplies by the weights' first n_a columns "
         "instead of their transposes", "da_prev = np.dot(Wf[:, :n_a].T, dft) + ...",
         _lstm_untransposed),
    Slip("whole-w", 7, "(19), (21)", "the whole weight matrix W.T @ dgate, of shape (n_a + n_x, "
         "m), where da_prev takes its a_prev columns and dxt its xt columns",
         "da_prev = np.dot(Wf[:, :n_a].T, dft) + ...; dxt = np.dot(Wf[:, n_a:].T, dft) + ...",
         _lstm_whole_w("da_prev", "dxt"),
         also=(_lstm_whole_w("da_prev"), _lstm_whole_w("dxt"))),
    Slip("bias-mean", 7, "(15)-(18)", "the bias gradients average over the examples (np.mean) "
         "instead of summing: the loss is already divided by m",
         "dbf = np.sum(dft, axis=1, keepdims=True), and so on for the four", _lstm_bias_mean),
    Slip(_GLOBALS, 7, "(19), (21)", _GLOBALS_SAYS, "read them from the cache: parameters = "
         "cache[9]; Wf = parameters['Wf'], and so on", probe=_GLOBALS),
    # exercise 8, lstm_backward
    Slip("carries-nothing", 8, "the loop", f"{_NO_CARRY}: neither da_prevt nor dc_prevt "
         "reaches the next step's lstm_cell_backward (never added, or never updated)",
         "gradients = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t]), then "
         "da_prevt = gradients['da_prev'] and dc_prevt = gradients['dc_prev']",
         _backward(ref.lstm_backward, carried=_nothing_carried, da0=_last_da_prev)),
    Slip("carries-only-c", 8, "the loop", f"{_NO_CARRY} for the hidden state: da_prevt is "
         "never added to da[:, :, t] (dc_prevt is)", "pass da[:, :, t] + da_prevt, then "
         "da_prevt = gradients['da_prev']",
         _backward(ref.lstm_backward, carried=_a_not_carried, da0=_last_da_prev)),
    Slip("carries-only-a", 8, "the loop", f"{_NO_CARRY} for the cell state: dc_prevt is never "
         "passed on (da_prevt is)", "pass dc_prevt as dc_next, then dc_prevt = "
         "gradients['dc_prev']", _backward(ref.lstm_backward, carried=_c_not_carried)),
    Slip("da-never-added", 8, "the loop", _NO_DA, "gradients = lstm_cell_backward(da[:, :, t] "
         "+ da_prevt, dc_prevt, caches[t]): da[:, :, t] is the gradient reaching a⟨t⟩ from the "
         "output", _backward(ref.lstm_backward, upstream=_no_upstream)),
    Slip("overwritten", 8, "the loop", "the weight gradients are assigned at each step "
         "(dWf = gradients['dWf']) instead of summed over the steps", "accumulate: dWf += "
         "gradients['dWf'], and so on for the eight",
         _backward(ref.lstm_backward, summed=lambda total, step: step)),
    Slip("skips-step-0", 8, "the loop", f"{_SKIPS}: dx[:, :, 0] stays zeros, step 0's "
         "gradients are missing and da0 is step 1's da_prev", "for t in reversed(range(T_x))",
         _backward(ref.lstm_backward, steps=_from_step_1_reversed)),
    Slip("whole-caches", 8, "the loop", "lstm_cell_backward is given the whole caches instead "
         "of the step's cache", "(caches, x) = caches before the loop, then pass caches[t]",
         probe="whole-caches"),
)  # fmt: skip


def for_exercise(number: int) -> list[Slip]:
    """The catalogue's slips of exercise ``number``, in order."""
    return [slip for slip in CATALOGUE if slip.exercise == number]


__all__ = ["CATALOGUE", "Slip", "for_exercise"]
