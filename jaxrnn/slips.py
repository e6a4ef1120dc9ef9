"""Classic slips: the ways learners get the documents' exercises wrong, each as one edit.

``jaxrnn check FILE`` names a learner's mistake by matching: a wrong function whose results
equal, to rounding and on every problem checked, those of one of these variants *is* that
slip, and the report gives its equation and its fix. Each variant is the documents' function
in NumPy (:mod:`jaxrnn.numpy_reference`, the independent reference) with one edit, written
beside the equation it bends; the catalogue holds the slips found in real solutions of the
assignment: a gate's derivative left out of eqs. (7)-(10), a loop that carries nothing from
step t+1 to step t, a gradient overwritten instead of accumulated, weights read from outside
the cache, a forward fed ``a0`` at every step.

Slips seen by behaviour rather than by value have a ``probe`` instead of a variant: weights
read from notebook globals give the right answer on the documents' test cell and the same
answer whatever the cache's weights are; a loop that hands its cell function the whole caches
makes it raise, which jaxrnn's cell function in its place, checking what it is given, names.

>>> [slip.id for slip in for_exercise(8)]
['carries-nothing', 'carries-only-c', 'carries-only-a', 'overwritten', 'whole-caches']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from jaxrnn import numpy_reference as ref


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
    """

    id: str
    exercise: int
    equation: str
    says: str
    fix: str
    run: Callable | None = None
    probe: str | None = None


# Exercise 5, rnn_cell_backward: eqs. (2)-(8), all from dtanh, eq. (3)


def _rnn_dtanh(edit):
    return lambda da_next, cache: ref.rnn_gradients(edit(da_next, cache[0]), cache)


def _rnn_untransposed(da_next, cache):
    a_next, a_prev, xt, p = cache
    dtanh = da_next * (1 - a_next**2)
    return ref.rnn_gradients(dtanh, cache) | {"da_prev": p["Waa"] @ dtanh}  # eq. (8), no .T


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


def _lstm_untransposed(da_next, dc_next, cache):
    n_a, p = cache[0].shape[0], cache[-1]
    gates = ref.lstm_gate_gradients(da_next, dc_next, cache)
    pairs = zip(("Wf", "Wi", "Wc", "Wo"), ("dft", "dit", "dcct", "dot_"), strict=True)
    da_prev = sum(p[w][:, :n_a] @ gates[g] for w, g in pairs)  # eq. (19), no .T
    return ref.lstm_gradients(gates, da_next, dc_next, cache) | {"da_prev": da_prev}


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


def _bent(function, *bends):
    return lambda *arguments: function(*arguments, bent=bends)


_GLOBALS = "weights-from-globals"
#: what the globals probe says and how to fix it, for both cell backwards
_GLOBALS_SAYS = (
    "reads the weights from outside the cache (a notebook's globals): right on the "
    "documents' test cell, whose weights they are, and unchanged whatever the cache holds"
)
_NO_CARRY = "the gradient from step t+1 is not carried to step t"

CATALOGUE = (
    # exercise 2, rnn_forward
    Slip("a0-at-every-step", 2, "the loop", "every step starts from a0, not from the previous "
         "step's a_next", "pass the a_next of step t-1 to rnn_cell_forward at step t (a_next = "
         "a0 once, before the loop)", _bent(ref.rnn_forward, "a0 at every step")),
    Slip("a-from-zeros", 2, "the loop", "the first step starts from zeros instead of a0",
         "initialise a_next = a0 before the loop", _bent(ref.rnn_forward, "a from zeros")),
    # exercise 3, lstm_cell_forward
    Slip("concat-swapped", 3, "(1)-(3), (5)", "concat stacks xt above a_prev; the weights act "
         "on [a_prev; xt], hidden state first", "concat = np.concatenate((a_prev, xt), axis=0)",
         _lstm_concat_swapped),
    # exercise 4, lstm_forward
    Slip("c-is-a", 4, "the loop", "a and c are one array (a = c = np.zeros(...)), so a holds "
         "the cell states", "give a and c arrays of their own: a = np.zeros(...); c = "
         "np.zeros(...)", _bent(ref.lstm_forward, "c is a")),
    Slip("a0-at-every-step", 4, "the loop", "every step starts from a0, not from the previous "
         "step's a_next", "pass the a_next of step t-1 to lstm_cell_forward at step t",
         _bent(ref.lstm_forward, "a0 at every step")),
    Slip("c-from-a0", 4, "the loop", "the cell state starts from a0 instead of zeros",
         "c_next = np.zeros((n_a, m)) before the loop: the documents start c at 0",
         _bent(ref.lstm_forward, "c from a0")),
    Slip("a-from-zeros", 4, "the loop", "the first step starts from zeros instead of a0",
         "initialise a_next = a0 before the loop", _bent(ref.lstm_forward, "a from zeros")),
    # exercise 5, rnn_cell_backward
    Slip("tanh-twice", 5, "(3)", "tanh' is taken of a_next, which is already tanh(...): "
         "1 - tanh(a_next)**2", "dtanh = da_next * (1 - a_next**2): a_next is the tanh",
         _rnn_dtanh(lambda da_next, a_next: da_next * (1 - np.tanh(a_next) ** 2))),
    Slip("no-tanh-derivative", 5, "(3)", "dtanh leaves out tanh's derivative (1 - a_next**2)",
         "dtanh = da_next * (1 - a_next**2)", _rnn_dtanh(lambda da_next, a_next: da_next)),
    Slip("waa-untransposed", 5, "(8)", "da_prev multiplies by Waa instead of its transpose",
         "da_prev = np.dot(Waa.T, dtanh)", _rnn_untransposed),
    Slip(_GLOBALS, 5, "(7), (8)", _GLOBALS_SAYS, "read them from the cache: (a_next, a_prev, "
         "xt, parameters) = cache; Wax = parameters['Wax']", probe=_GLOBALS),
    # exercise 6, rnn_backward
    Slip("carries-nothing", 6, "the loop", f"{_NO_CARRY}: da_prevt is never added to "
         "da[:, :, t], or never updated from the step's da_prev",
         "gradients = rnn_cell_backward(da[:, :, t] + da_prevt, caches[t]), then da_prevt = "
         "gradients['da_prev']", _bent(ref.rnn_backward, "a not carried")),
    Slip("overwritten", 6, "the loop", "the weight gradients are assigned at each step "
         "(dWax = dWaxt) instead of summed over the steps", "accumulate: dWax += dWaxt, "
         "dWaa += dWaat, dba += dbat", _bent(ref.rnn_backward, "overwritten")),
    Slip("da-summed-once", 6, "the loop", "da is summed over time once, into the first step's "
         "gradient, instead of adding da[:, :, t] at each step t",
         "pass da[:, :, t] + da_prevt to rnn_cell_backward at every step",
         _bent(ref.rnn_backward, "da summed once")),
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
    Slip(_GLOBALS, 7, "(19), (21)", _GLOBALS_SAYS, "read them from the cache: parameters = "
         "cache[9]; Wf = parameters['Wf'], and so on", probe=_GLOBALS),
    # exercise 8, lstm_backward
    Slip("carries-nothing", 8, "the loop", f"{_NO_CARRY}: neither da_prevt nor dc_prevt "
         "reaches the next step's lstm_cell_backward (never added, or never updated)",
         "gradients = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t]), then "
         "da_prevt = gradients['da_prev'] and dc_prevt = gradients['dc_prev']",
         _bent(ref.lstm_backward, "a not carried", "c not carried")),
    Slip("carries-only-c", 8, "the loop", f"{_NO_CARRY} for the hidden state: da_prevt is "
         "never added to da[:, :, t] (dc_prevt is)", "pass da[:, :, t] + da_prevt, then "
         "da_prevt = gradients['da_prev']", _bent(ref.lstm_backward, "a not carried")),
    Slip("carries-only-a", 8, "the loop", f"{_NO_CARRY} for the cell state: dc_prevt is never "
         "passed on (da_prevt is)", "pass dc_prevt as dc_next, then dc_prevt = "
         "gradients['dc_prev']", _bent(ref.lstm_backward, "c not carried")),
    Slip("overwritten", 8, "the loop", "the weight gradients are assigned at each step "
         "(dWf = gradients['dWf']) instead of summed over the steps", "accumulate: dWf += "
         "gradients['dWf'], and so on for the eight", _bent(ref.lstm_backward, "overwritten")),
    Slip("whole-caches", 8, "the loop", "lstm_cell_backward is given the whole caches instead "
         "of the step's cache", "(caches, x) = caches before the loop, then pass caches[t]",
         probe="whole-caches"),
)  # fmt: skip


def for_exercise(number: int) -> list[Slip]:
    """The catalogue's slips of exercise ``number``, in order."""
    return [slip for slip in CATALOGUE if slip.exercise == number]


__all__ = ["CATALOGUE", "Slip", "for_exercise"]
