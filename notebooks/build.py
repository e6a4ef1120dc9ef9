"""Write the notebooks from the cells below and execute them, storing their outputs.

    python notebooks/build.py            # all of them
    python notebooks/build.py vanishing  # those whose name contains "vanishing"

The notebooks are stored executed, so that they render where people browse them; the test suite
(tests/test_notebooks.py) executes them again from a fresh kernel.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import nbformat
from nbclient import NotebookClient

HERE = pathlib.Path(__file__).resolve().parent
md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell

SETUP = code(
    "import jax\n"
    "\n"
    'jax.config.update("jax_enable_x64", True)  # the documents compute in float64\n'
    "\n"
    "import numpy as np\n"
    "\n"
    "import jaxrnn\n"
    "from jaxrnn import autodiff\nfrom jaxrnn.course import exercises\n"
    "from jaxrnn.gradcheck.tolerances import relative_error"
)

AGREEMENT = (
    "twin = autodiff.{fn}({args})\n"
    "errors = {{k: relative_error(gradients_tmp[k], twin[k]) for k in twin}}\n"
    'print("manual vs jax.vjp, max |difference| / max |autodiff| per gradient:")\n'
    "for k, e in errors.items():\n"
    '    print(f"  {{k:8}} {{e:.1e}}")\n'
    "assert max(errors.values()) <= 1e-10"
)

OBSERVE = (
    "observed = {}\n"
    "for key, index in entries:\n"
    '    observed[f\'gradients["{key}"]\' + "".join(f"[{i}]" for i in index)] = gradients_tmp[key][index]\n'
    "    observed[f'gradients[\"{key}\"].shape'] = gradients_tmp[key].shape\n"
)

RNN_CELLS = [
    md(
        "# The basic RNN, step by step, on jaxrnn\n\n"
        "The RNN document builds a recurrent network in NumPy in four exercises: one cell "
        "forward, the sequence forward, one cell backward, the sequence backward. Here each "
        "exercise runs on jaxrnn with the document's own test inputs (`np.random.seed(1)`, "
        "the same draws in the same order), prints the document's **Expected Output** beside "
        "jaxrnn's, and asserts that every printed digit is reproduced. After each backward "
        "exercise, the same gradients come from `jax.vjp` of jaxrnn's forward, and we measure "
        "how far apart the two are."
    ),
    SETUP,
    md(
        "## Exercise 1: `rnn_cell_forward`\n\n"
        "One step: $a^{\\langle t \\rangle} = \\tanh(W_{ax} x^{\\langle t \\rangle} + W_{aa} "
        "a^{\\langle t-1 \\rangle} + b_a)$, then $\\hat y^{\\langle t \\rangle} = "
        "\\mathrm{softmax}(W_{ya} a^{\\langle t \\rangle} + b_y)$. Columns are examples."
    ),
    code(
        "np.random.seed(1)\n"
        "xt_tmp = np.random.randn(3, 10)\n"
        "a_prev_tmp = np.random.randn(5, 10)\n"
        "parameters_tmp = {}\n"
        "parameters_tmp['Waa'] = np.random.randn(5, 5)\n"
        "parameters_tmp['Wax'] = np.random.randn(5, 3)\n"
        "parameters_tmp['Wya'] = np.random.randn(2, 5)\n"
        "parameters_tmp['ba'] = np.random.randn(5, 1)\n"
        "parameters_tmp['by'] = np.random.randn(2, 1)\n"
        "\n"
        "a_next_tmp, yt_pred_tmp, cache_tmp = jaxrnn.rnn_cell_forward(xt_tmp, a_prev_tmp, parameters_tmp)\n"
        "print(exercises.side_by_side(1, {\n"
        '    "a_next[4]": a_next_tmp[4], "a_next.shape": a_next_tmp.shape,\n'
        '    "yt_pred[1]": yt_pred_tmp[1], "yt_pred.shape": yt_pred_tmp.shape}))'
    ),
    md(
        "## Exercise 2: `rnn_forward`\n\n"
        "The cell applied to every time step. jaxrnn does it with one `jax.lax.scan`, not a "
        "Python loop; `caches` is still the pair `(per-step caches, x)`, and `caches[0][t]` "
        "is the cell cache of step `t`."
    ),
    code(
        "np.random.seed(1)\n"
        "x_tmp = np.random.randn(3, 10, 4)\n"
        "a0_tmp = np.random.randn(5, 10)\n"
        "parameters_tmp = {}\n"
        "parameters_tmp['Waa'] = np.random.randn(5, 5)\n"
        "parameters_tmp['Wax'] = np.random.randn(5, 3)\n"
        "parameters_tmp['Wya'] = np.random.randn(2, 5)\n"
        "parameters_tmp['ba'] = np.random.randn(5, 1)\n"
        "parameters_tmp['by'] = np.random.randn(2, 1)\n"
        "\n"
        "a_tmp, y_pred_tmp, caches_tmp = jaxrnn.rnn_forward(x_tmp, a0_tmp, parameters_tmp)\n"
        "print(exercises.side_by_side(2, {\n"
        '    "a[4][1]": a_tmp[4][1], "a.shape": a_tmp.shape,\n'
        '    "y_pred[1][3]": y_pred_tmp[1][3], "y_pred.shape": y_pred_tmp.shape,\n'
        '    "caches[1][1][3]": caches_tmp[1][1][3], "len(caches)": len(caches_tmp)}))'
    ),
    md(
        "## Exercise 5: `rnn_cell_backward`\n\n"
        "From $da_{next} = \\partial J / \\partial a^{\\langle t \\rangle}$: since "
        "$\\tanh' = 1 - \\tanh^2$ and the tanh is `a_next`, $dtanh = da_{next} * (1 - "
        "a_{next}^2)$; every other gradient is a matrix product with it (equations (3)-(8))."
    ),
    code(
        "np.random.seed(1)\n"
        "xt_tmp = np.random.randn(3, 10)\n"
        "a_prev_tmp = np.random.randn(5, 10)\n"
        "parameters_tmp = {}\n"
        "parameters_tmp['Wax'] = np.random.randn(5, 3)\n"
        "parameters_tmp['Waa'] = np.random.randn(5, 5)\n"
        "parameters_tmp['Wya'] = np.random.randn(2, 5)\n"
        "parameters_tmp['ba'] = np.random.randn(5, 1)\n"
        "parameters_tmp['by'] = np.random.randn(2, 1)\n"
        "\n"
        "a_next_tmp, yt_tmp, cache_tmp = jaxrnn.rnn_cell_forward(xt_tmp, a_prev_tmp, parameters_tmp)\n"
        "da_next_tmp = np.random.randn(5, 10)\n"
        "gradients_tmp = jaxrnn.rnn_cell_backward(da_next_tmp, cache_tmp)\n"
        'entries = [("dxt", (1, 2)), ("da_prev", (2, 3)), ("dWax", (3, 1)), ("dWaa", (1, 2)), ("dba", (4,))]\n'
        + OBSERVE
        + "print(exercises.side_by_side(5, observed))"
    ),
    md("The same gradients by `jax.vjp` of `rnn_cell_forward`, and how close they are:"),
    code(AGREEMENT.format(fn="rnn_cell_backward", args="da_next_tmp, cache_tmp")),
    md(
        "## Exercise 6: `rnn_backward`\n\n"
        "Backpropagation through time: a reverse scan that adds the upstream `da[:, :, t]` to "
        "the gradient flowing back from step `t + 1` and runs the cell backward, summing the "
        "parameter gradients."
    ),
    code(
        "np.random.seed(1)\n"
        "x_tmp = np.random.randn(3, 10, 4)\n"
        "a0_tmp = np.random.randn(5, 10)\n"
        "parameters_tmp = {}\n"
        "parameters_tmp['Wax'] = np.random.randn(5, 3)\n"
        "parameters_tmp['Waa'] = np.random.randn(5, 5)\n"
        "parameters_tmp['Wya'] = np.random.randn(2, 5)\n"
        "parameters_tmp['ba'] = np.random.randn(5, 1)\n"
        "parameters_tmp['by'] = np.random.randn(2, 1)\n"
        "\n"
        "a_tmp, y_tmp, caches_tmp = jaxrnn.rnn_forward(x_tmp, a0_tmp, parameters_tmp)\n"
        "da_tmp = np.random.randn(5, 10, 4)\n"
        "gradients_tmp = jaxrnn.rnn_backward(da_tmp, caches_tmp)\n"
        'entries = [("dx", (1, 2)), ("da0", (2, 3)), ("dWax", (3, 1)), ("dWaa", (1, 2)), ("dba", (4,))]\n'
        + OBSERVE
        + "print(exercises.side_by_side(6, observed))"
    ),
    code(AGREEMENT.format(fn="rnn_backward", args="da_tmp, caches_tmp")),
    md(
        "Every printed digit of the document is reproduced, and the hand-derived gradients "
        "agree with JAX's autodiff to about 1e-16, float64's own rounding."
    ),
]

LSTM_GRADIENT_ENTRIES = (
    '[("dWf", (3, 1)), ("dWi", (1, 2)), ("dWc", (3, 1)), ("dWo", (1, 2)),\n'
    '           ("dbf", (4,)), ("dbi", (4,)), ("dbc", (4,)), ("dbo", (4,))]'
)
LSTM_PARAMETERS = (
    "params_tmp = {}\n"
    "params_tmp['Wf'] = np.random.randn(5, 5 + 3)\n"
    "params_tmp['bf'] = np.random.randn(5, 1)\n"
    "params_tmp['Wi'] = np.random.randn(5, 5 + 3)\n"
    "params_tmp['bi'] = np.random.randn(5, 1)\n"
    "params_tmp['Wo'] = np.random.randn(5, 5 + 3)\n"
    "params_tmp['bo'] = np.random.randn(5, 1)\n"
    "params_tmp['Wc'] = np.random.randn(5, 5 + 3)\n"
    "params_tmp['bc'] = np.random.randn(5, 1)\n"
)

LSTM_CELLS = [
    md(
        "# The LSTM, step by step, on jaxrnn\n\n"
        "The LSTM document's four exercises, with its own test inputs, its expected output "
        "beside jaxrnn's (asserted digit by digit), and after each backward exercise the same "
        "gradients from `jax.vjp`. `Wi`, `bi` and `it` belong to the *update* gate."
    ),
    SETUP,
    md(
        "## `lstm_cell_forward`\n\n"
        "Three sigmoid gates (forget $\\Gamma_f$, update $\\Gamma_i$, output $\\Gamma_o$) and a "
        "tanh candidate $\\tilde c$, all reading $[a^{\\langle t-1 \\rangle}; x^{\\langle t "
        "\\rangle}]$; then $c_{next} = \\Gamma_f * c_{prev} + \\Gamma_i * \\tilde c$ and "
        "$a_{next} = \\Gamma_o * \\tanh(c_{next})$. The cache is the document's 10-tuple."
    ),
    code(
        "np.random.seed(1)\n"
        "xt_tmp = np.random.randn(3, 10)\n"
        "a_prev_tmp = np.random.randn(5, 10)\n"
        "c_prev_tmp = np.random.randn(5, 10)\n"
        + LSTM_PARAMETERS
        + "params_tmp['Wy'] = np.random.randn(2, 5)\n"
        "params_tmp['by'] = np.random.randn(2, 1)\n"
        "\n"
        "a_next_tmp, c_next_tmp, yt_tmp, cache_tmp = jaxrnn.lstm_cell_forward(xt_tmp, a_prev_tmp, c_prev_tmp, params_tmp)\n"
        "print(exercises.side_by_side(3, {\n"
        '    "a_next[4]": a_next_tmp[4], "a_next.shape": a_next_tmp.shape,\n'
        '    "c_next[2]": c_next_tmp[2], "c_next.shape": c_next_tmp.shape,\n'
        '    "yt[1]": yt_tmp[1], "yt.shape": yt_tmp.shape,\n'
        '    "cache[1][3]": cache_tmp[1][3], "len(cache)": len(cache_tmp)}))'
    ),
    md("## `lstm_forward`\n\nOne `lax.scan` over time; the cell state starts at zeros."),
    code(
        "np.random.seed(1)\n"
        "x_tmp = np.random.randn(3, 10, 7)\n"
        "a0_tmp = np.random.randn(5, 10)\n"
        + LSTM_PARAMETERS
        + "params_tmp['Wy'] = np.random.randn(2, 5)\n"
        "params_tmp['by'] = np.random.randn(2, 1)\n"
        "\n"
        "a_tmp, y_tmp, c_tmp, caches_tmp = jaxrnn.lstm_forward(x_tmp, a0_tmp, params_tmp)\n"
        "print(exercises.side_by_side(4, {\n"
        '    "a[4][3][6]": a_tmp[4][3][6], "a.shape": a_tmp.shape,\n'
        '    "y[1][4][3]": y_tmp[1][4][3], "y.shape": y_tmp.shape,\n'
        '    "caches[1][1][1]": caches_tmp[1][1][1], "c[1][2][1]": c_tmp[1][2][1],\n'
        '    "len(caches)": len(caches_tmp)}))'
    ),
    md(
        "## `lstm_cell_backward`\n\n"
        "Equations (7)-(21): the gradients at the four gates' pre-activations first, then the "
        "weights, biases and inputs by matrix products. Both `da_next` and `dc_next` arrive."
    ),
    code(
        "np.random.seed(1)\n"
        "xt_tmp = np.random.randn(3, 10)\n"
        "a_prev_tmp = np.random.randn(5, 10)\n"
        "c_prev_tmp = np.random.randn(5, 10)\n"
        + LSTM_PARAMETERS
        + "params_tmp['Wy'] = np.random.randn(2, 5)\n"
        "params_tmp['by'] = np.random.randn(2, 1)\n"
        "\n"
        "a_next_tmp, c_next_tmp, yt_tmp, cache_tmp = jaxrnn.lstm_cell_forward(xt_tmp, a_prev_tmp, c_prev_tmp, params_tmp)\n"
        "da_next_tmp = np.random.randn(5, 10)\n"
        "dc_next_tmp = np.random.randn(5, 10)\n"
        "gradients_tmp = jaxrnn.lstm_cell_backward(da_next_tmp, dc_next_tmp, cache_tmp)\n"
        'entries = [("dxt", (1, 2)), ("da_prev", (2, 3)), ("dc_prev", (2, 3))] + '
        + LSTM_GRADIENT_ENTRIES
        + "\n"
        + OBSERVE
        + "print(exercises.side_by_side(7, observed))"
    ),
    code(AGREEMENT.format(fn="lstm_cell_backward", args="da_next_tmp, dc_next_tmp, cache_tmp")),
    md(
        "## `lstm_backward`\n\n"
        "The document's test cell gives `da` for 4 of the 7 steps. jaxrnn reads that as the "
        "gradient of $\\sum da * a_{[:, :, :4]}$: the last three hidden states get no upstream "
        "gradient, so `dx` is zero there, exactly as printed."
    ),
    code(
        "np.random.seed(1)\n"
        "x_tmp = np.random.randn(3, 10, 7)\n"
        "a0_tmp = np.random.randn(5, 10)\n"
        + LSTM_PARAMETERS
        + "params_tmp['Wy'] = np.zeros((2, 5))  # unused by the backward\n"
        "params_tmp['by'] = np.zeros((2, 1))\n"
        "\n"
        "a_tmp, y_tmp, c_tmp, caches_tmp = jaxrnn.lstm_forward(x_tmp, a0_tmp, params_tmp)\n"
        "da_tmp = np.random.randn(5, 10, 4)\n"
        "gradients_tmp = jaxrnn.lstm_backward(da_tmp, caches_tmp)\n"
        'entries = [("dx", (1, 2)), ("da0", (2, 3))] + '
        + LSTM_GRADIENT_ENTRIES
        + "\n"
        + OBSERVE
        + "print(exercises.side_by_side(8, observed))"
    ),
    code(AGREEMENT.format(fn="lstm_backward", args="da_tmp, caches_tmp")),
    md(
        "All four exercises reproduce the document, and the hand-derived LSTM gradients agree "
        "with `jax.vjp` to float64 rounding."
    ),
    md(
        "## Checking your own solution\n\n"
        "Here are two functions as a learner might write them: `my_lstm_cell_backward` with eq. "
        "(20) missing its second factor $\\Gamma_f$, and `my_lstm_backward`, whose loop carries "
        "nothing from step t+1 to step t. `jaxrnn.solution.check` runs them as written, the "
        "documents' way, and shows its report as a page: each suspect equation rendered beside "
        "the line that computes it, the wrong `dc_prev` entry by entry, and `dx` step by step. "
        "In your own notebook, `jaxrnn.solution.check(globals())` does the same for the functions "
        "you wrote."
    ),
    code(
        "def lstm_cell_backward(da_next, dc_next, cache):\n"
        "    (a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, parameters) = cache\n"
        "    n_a, m = a_next.shape\n"
        "    dtanh_c = 1 - np.tanh(c_next) ** 2\n"
        "    dot_ = da_next * np.tanh(c_next) * ot * (1 - ot)\n"
        "    dcct = (dc_next * it + ot * dtanh_c * it * da_next) * (1 - cct**2)\n"
        "    dit = (dc_next * cct + ot * dtanh_c * cct * da_next) * it * (1 - it)\n"
        "    dft = (dc_next * c_prev + ot * dtanh_c * c_prev * da_next) * ft * (1 - ft)\n"
        "    concat = np.concatenate((a_prev, xt), axis=0)\n"
        "    gates = {'f': dft, 'i': dit, 'c': dcct, 'o': dot_}\n"
        "    gradients = {'da_prev': 0, 'dxt': 0}\n"
        "    for gate, dgate in gates.items():\n"
        "        W = parameters['W' + gate]\n"
        "        gradients['dW' + gate] = dgate @ concat.T\n"
        "        gradients['db' + gate] = np.sum(dgate, axis=1, keepdims=True)\n"
        "        gradients['da_prev'] = gradients['da_prev'] + W[:, :n_a].T @ dgate\n"
        "        gradients['dxt'] = gradients['dxt'] + W[:, n_a:].T @ dgate\n"
        "    dc_prev = dc_next * ft + ot * dtanh_c * da_next  # eq (20)\n"
        "    gradients['dc_prev'] = dc_prev\n"
        "    return gradients\n"
        "\n"
        "\n"
        "def lstm_backward(da, caches):\n"
        "    (caches, x) = caches\n"
        "    n_a, m, T_x = da.shape\n"
        "    dx = np.zeros(x.shape)\n"
        "    keys = ['dWf', 'dbf', 'dWi', 'dbi', 'dWc', 'dbc', 'dWo', 'dbo']\n"
        "    sums = {k: 0 for k in keys}\n"
        "    da_prevt, dc_prevt = np.zeros((n_a, m)), np.zeros((n_a, m))\n"
        "    for t in reversed(range(T_x)):\n"
        "        gradients = lstm_cell_backward(da[:, :, t] + da_prevt, dc_prevt, caches[t])\n"
        "        dx[:, :, t] = gradients['dxt']\n"
        "        for k in keys:\n"
        "            sums[k] = sums[k] + gradients[k]\n"
        "    return {'dx': dx, 'da0': gradients['da_prev'], **sums}"
    ),
    code(
        "from jaxrnn import solution\n"
        "\n"
        "mine = {'lstm_cell_backward': lstm_cell_backward, 'lstm_backward': lstm_backward}\n"
        "report = solution.check(mine)\n"
        "page = report._repr_html_()\n"
        "assert report.exit_status == 1 and 'data-equation=\"(20)\"' in page\n"
        "assert 'first departs: t = 2' in page  # dx drawn step by step\n"
        "report  # the page, inline"
    ),
]

VANISHING_CELLS = [
    md(
        "# Vanishing gradients, drawn\n\n"
        'The documents say the basic RNN "suffers from vanishing gradients" and that the LSTM '
        'is "better at addressing" them. Here is the picture. A loss that depends only on the '
        "**last** hidden state, $J = \\sum da * a^{\\langle T \\rangle}$, sends its gradient "
        "back through the recurrence; we plot the norm of $\\partial J / \\partial a^{\\langle t "
        "\\rangle}$ against $t$, for an RNN and an LSTM over $T = 300$ steps.\n\n"
        "The curves come from jaxrnn's **hand-derived** reverse scan "
        "(`jaxrnn.loss.hidden_state_gradients`: the `da_next` the documents' loop hands to the "
        "cell backward at every step); the dots are the same quantity from **`jax.grad`** "
        "(`jaxrnn.autodiff.hidden_state_gradients`, which adds a zero probe to every hidden "
        "state and differentiates the forward)."
    ),
    code(
        "import pathlib\n"
        "\n"
        "import jax\n"
        "\n"
        'jax.config.update("jax_enable_x64", True)  # tiny gradients need float64 to be seen\n'
        "\n"
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n"
        "\n"
        "from jaxrnn import autodiff, loss\n"
        "from jaxrnn.cells import LSTM, RNN"
    ),
    md(
        "**Setup, all stated.** Seed 0 for everything; $n_x = 4$, $n_a = 32$, one example, "
        "$T = 300$; inputs standard normal; every weight standard normal times "
        "$1/\\sqrt{n_a + n_x} = 1/6$ (a common initialisation scale); biases the same, except "
        "the LSTM's forget-gate bias $b_f = 3$, the usual practice that starts the cell state "
        "out remembering ($\\Gamma_f \\approx 0.95$). $a^{\\langle 0 \\rangle} = 0$; $da$ is "
        "standard normal at the last step and zero before it."
    ),
    code(
        "n_x, n_a, m, T = 4, 32, 1, 300\n"
        "\n"
        "\n"
        "def gradient_norms(cell):\n"
        "    rng = np.random.default_rng(0)\n"
        "    parameters = cell.random_parameters(rng, n_x, n_a, 2, np.float64, scale=1 / np.sqrt(n_a + n_x))\n"
        "    if cell is LSTM:\n"
        '        parameters["bf"] = np.full((n_a, 1), 3.0)\n'
        "    x = rng.standard_normal((n_x, m, T))\n"
        "    a0 = np.zeros((n_a, m))\n"
        "    da = np.zeros((n_a, m, T))\n"
        "    da[:, :, -1] = rng.standard_normal((n_a, m))\n"
        "    caches = cell.forward(x, a0, parameters)[-1]\n"
        "    manual = loss.hidden_state_gradients(cell, da, caches)\n"
        "    autograd = autodiff.hidden_state_gradients(cell, da, x, a0, parameters)\n"
        "    return tuple(np.linalg.norm(np.asarray(g).reshape(-1, T), axis=0) for g in (manual, autograd))\n"
        "\n"
        "\n"
        "norms = {cell.name: gradient_norms(cell) for cell in (RNN, LSTM)}\n"
        "for name, (manual, autograd) in norms.items():\n"
        "    worst = np.max(np.abs(manual - autograd) / autograd)\n"
        '    print(f"{name:5} |dJ/da<t>|: t=1 {manual[0]:.1e}, t=150 {manual[149]:.1e}, t=300 {manual[-1]:.1e}; "\n'
        '          f"manual vs jax.grad, largest relative difference {worst:.1e}")'
    ),
    code(
        "fig, ax = plt.subplots(figsize=(7, 4))\n"
        "t = np.arange(1, T + 1)\n"
        'for (name, (manual, autograd)), color in zip(norms.items(), ["tab:red", "tab:blue"], strict=True):\n'
        '    ax.semilogy(t, manual, color=color, label=f"{name.upper()}: hand-derived backward")\n'
        '    ax.semilogy(t[::15], autograd[::15], "o", color=color, mfc="none", label=f"{name.upper()}: jax.grad")\n'
        'ax.set(xlabel="time step t", ylabel=r"$\\|\\partial J / \\partial a^{\\langle t \\rangle}\\|$",\n'
        '       title="Gradient of a loss on the last hidden state, flowing back in time")\n'
        "ax.legend()\n"
        "fig.tight_layout()\n"
        'pathlib.Path("figures").mkdir(exist_ok=True)\n'
        'fig.savefig("figures/vanishing_gradients.png", dpi=120)'
    ),
    code(
        'rnn, lstm = norms["rnn"][0], norms["lstm"][0]\n'
        "# the picture's claim, asserted: the RNN's gradient falls by more than 20 orders of\n"
        "# magnitude over the sequence, the LSTM's stays within 2 of where it starts\n"
        "assert rnn[0] / rnn[-1] < 1e-20\n"
        "assert lstm[0] / lstm[-1] > 1e-2\n"
        "for manual, autograd in norms.values():\n"
        "    np.testing.assert_allclose(manual, autograd, rtol=1e-10)"
    ),
    md(
        "**What the picture shows.** Going back from the last step, the RNN's gradient shrinks "
        "by a roughly constant factor per step (each step multiplies it by $W_{aa}^T$ and by "
        "$1 - \\tanh^2 \\le 1$), a straight line on the log scale: after 300 steps it is about "
        "27 orders of magnitude smaller, so the first inputs get no learning signal at all. The "
        "LSTM's gradient travels back along the cell state, multiplied by the forget gate "
        "(equation (20)) rather than by a weight matrix, and with $\\Gamma_f$ near 1 it stays "
        "of the same order for all 300 steps. The hand-derived and the autodiff curves "
        "coincide to 1e-10 relative, even at $10^{-27}$."
    ),
]

CHAR_CELLS = [
    md(
        "# A character-level language model, trained with hand-derived gradients\n\n"
        "A GRU reads dinosaur names one character at a time and learns to predict the next. "
        "The gradients come from `jax.grad` of the cross-entropy, but `jax.grad` here runs "
        "jaxrnn's **manual** backward: the forward is `jaxrnn.custom_vjp.gru`, whose VJP is the "
        "softmax's and output layer's hand-derived VJP followed by the reverse scan of "
        "`gru_cell_backward`. An Optax chain clips the gradients by their global norm (5) and "
        "applies Adam (`charlm.train(optimizer=...)` takes `adamw`, `rmsprop`, `sgd` too). "
        'Choose `CELL = "rnn"` or `"lstm"` to train the others.'
    ),
    code(
        "import pathlib\n"
        "\n"
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n"
        "\n"
        "from jaxrnn.demo import charlm\n"
        "\n"
        'CELL = "gru"\n'
        "text = charlm.load_corpus()\n"
        'print(f"{len(text.splitlines())} names, {len(set(text))} symbols; the first few:", text.split()[:6])'
    ),
    md("Before training, samples are uniform noise:"),
    code(
        "untrained = charlm.train(CELL, steps=0, progress=False)\n"
        "before = [w for w in charlm.sample(untrained, 150, seed=1).split() if w][:6]\n"
        "print(before)"
    ),
    md(
        "Training: 1,500 steps of 32 windows of 25 characters; the bar shows the running loss "
        "(J per window, summed over its 25 characters)."
    ),
    code(
        "model = charlm.train(CELL, steps=1500, n_a=64, seed=0)\n"
        "start, end = np.mean(model.losses[:20]), np.mean(model.losses[-100:])\n"
        'print(f"loss: {start:.1f} at the start (uniform guessing is 25 ln 27 = {25 * np.log(27):.1f}), {end:.1f} at the end")\n'
        "assert end < 0.25 * start"
    ),
    code(
        "fig, ax = plt.subplots(figsize=(7, 3.5))\n"
        'ax.plot(model.losses, lw=0.6, label="J per step")\n'
        'smooth = np.convolve(model.losses, np.ones(50) / 50, mode="valid")\n'
        'ax.plot(np.arange(49, len(model.losses)), smooth, lw=2, label="50-step average")\n'
        'ax.set(xlabel="training step", ylabel="cross-entropy J", title=f"{CELL.upper()} on dinosaur names, manual gradients")\n'
        "ax.legend()\n"
        "fig.tight_layout()\n"
        'pathlib.Path("figures").mkdir(exist_ok=True)\n'
        'fig.savefig("figures/char_model_loss.png", dpi=120)'
    ),
    md("After training, the samples look like the corpus:"),
    code(
        "after = [w for w in charlm.sample(model, 300, seed=1).split() if w][:12]\n"
        "print(after)\n"
        "novel = [w for w in after if w not in set(text.split())]\n"
        'print(f"{len(novel)} of {len(after)} are not in the corpus:", novel)\n'
        'assert sum(w.endswith(("saurus", "raptor", "don", "ops", "mimus", "tops", "ia", "us")) for w in after) >= len(after) // 2'
    ),
    md("Parameters save to a `.npz` file (plain arrays, no pickle) and load back bit for bit:"),
    code(
        'charlm.save(model, "dinosaurs_gru.npz")\n'
        'loaded = charlm.load("dinosaurs_gru.npz")\n'
        "assert loaded.cell == model.cell and loaded.vocabulary == model.vocabulary\n"
        "assert all(np.array_equal(loaded.parameters[k], model.parameters[k]) for k in model.parameters)\n"
        "assert charlm.sample(loaded, 100, seed=2) == charlm.sample(model, 100, seed=2)\n"
        'pathlib.Path("dinosaurs_gru.npz").unlink()\n'
        'print("round trip exact")'
    ),
]

OWN_CELLS = [
    md(
        "# A cell of your own, checked\n\n"
        "jaxrnn's cells are defined the way the documents write them: a cell forward, a cell "
        "backward with the equations by hand, the shapes of the parameters and the names of the "
        "state. `jaxrnn.Cell` turns two such functions into a recurrent network with everything "
        "else derived: the sequence forward and backward, the autodiff twins, the custom VJP, "
        "the loss, the gradient checker. Here are two cells jaxrnn does not ship, written with "
        "its public API only: an LSTM with peephole connections (Gers & Schmidhuber, 2000) and "
        "the minimal gated unit (Zhou et al., 2016)."
    ),
    code(
        "import jax\n"
        "\n"
        'jax.config.update("jax_enable_x64", True)  # float64, for the checker\'s finite differences\n'
        "\n"
        "from typing import NamedTuple\n"
        "\n"
        "import jax.numpy as jnp\n"
        "import numpy as np\n"
        "\n"
        "import jaxrnn\n"
        "from jaxrnn.demo import charlm\n"
        "from jaxrnn.problems import check_problem"
    ),
    md(
        "## An LSTM with peepholes\n\n"
        "The forget and update gates also see $c_{prev}$, the output gate $c_{next}$, each "
        "through a vector of weights ($p_f, p_i, p_o$, elementwise):\n\n"
        "$$\\Gamma_f = \\sigma(W_f [a_{prev}; x_t] + p_f * c_{prev} + b_f) \\quad (P1) \\qquad "
        "\\Gamma_i = \\sigma(W_i [a_{prev}; x_t] + p_i * c_{prev} + b_i) \\quad (P2)$$\n\n"
        "$$\\tilde c = \\tanh(W_c [a_{prev}; x_t] + b_c) \\quad (P3) \\qquad "
        "c_{next} = \\Gamma_f * c_{prev} + \\Gamma_i * \\tilde c \\quad (P4)$$\n\n"
        "$$\\Gamma_o = \\sigma(W_o [a_{prev}; x_t] + p_o * c_{next} + b_o) \\quad (P5) \\qquad "
        "a_{next} = \\Gamma_o * \\tanh(c_{next}) \\quad (P6)$$\n\n"
        "The backward follows the LSTM document's (7)-(21), with what the peepholes add: "
        "$c_{next}$ also reaches $\\Gamma_o$ (P8), $c_{prev}$ also reaches $\\Gamma_f$ and "
        "$\\Gamma_i$ (P15), and the peephole weights get gradients of their own (P13)."
    ),
    code(
        "class PeepholeCache(NamedTuple):  # the cache names its fields; xt, a_prev, c_prev among them\n"
        "    a_next: object\n"
        "    c_next: object\n"
        "    a_prev: object\n"
        "    c_prev: object\n"
        "    ft: object\n"
        "    it: object\n"
        "    cct: object\n"
        "    ot: object\n"
        "    xt: object\n"
        "    parameters: dict\n"
        "\n"
        "\n"
        "def peephole_cell_forward(xt, a_prev, c_prev, p):\n"
        "    concat = jnp.concatenate([a_prev, xt])\n"
        '    ft = jaxrnn.sigmoid(p["Wf"] @ concat + p["pf"] * c_prev + p["bf"])  # (P1)\n'
        '    it = jaxrnn.sigmoid(p["Wi"] @ concat + p["pi"] * c_prev + p["bi"])  # (P2)\n'
        '    cct = jnp.tanh(p["Wc"] @ concat + p["bc"])  # (P3)\n'
        "    c_next = ft * c_prev + it * cct  # (P4)\n"
        '    ot = jaxrnn.sigmoid(p["Wo"] @ concat + p["po"] * c_next + p["bo"])  # (P5)\n'
        "    a_next = ot * jnp.tanh(c_next)  # (P6)\n"
        '    yt_pred = jaxrnn.softmax(p["Wy"] @ a_next + p["by"])\n'
        "    return a_next, c_next, yt_pred, PeepholeCache(a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p)\n"
        "\n"
        "\n"
        "def peephole_cell_backward(da_next, dc_next, cache):\n"
        "    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p = cache\n"
        "    n_a = a_next.shape[0]\n"
        "    tanh_c = jnp.tanh(c_next)\n"
        "    dot_ = da_next * tanh_c * ot * (1 - ot)  # (P7), at the output gate's pre-activation\n"
        '    dc = dc_next + ot * (1 - tanh_c**2) * da_next + p["po"] * dot_  # (P8), all reaching c_next\n'
        "    dcct = dc * it * (1 - cct**2)  # (P9)\n"
        "    dit = dc * cct * it * (1 - it)  # (P10)\n"
        "    dft = dc * c_prev * ft * (1 - ft)  # (P11)\n"
        "    concat_T = jnp.concatenate([a_prev, xt]).T\n"
        '    gates = {"f": dft, "i": dit, "c": dcct, "o": dot_}\n'
        '    grads = {f"dW{g}": d @ concat_T for g, d in gates.items()}  # (P12)\n'
        '    grads |= {f"db{g}": jnp.sum(d, axis=1, keepdims=True) for g, d in gates.items()}  # (P12)\n'
        '    grads |= {"dpf": jnp.sum(dft * c_prev, axis=1, keepdims=True),  # (P13)\n'
        '              "dpi": jnp.sum(dit * c_prev, axis=1, keepdims=True),\n'
        '              "dpo": jnp.sum(dot_ * c_next, axis=1, keepdims=True)}\n'
        '    da_prev = sum(p[f"W{g}"][:, :n_a].T @ d for g, d in gates.items())  # (P14)\n'
        '    dc_prev = dc * ft + p["pf"] * dft + p["pi"] * dit  # (P15)\n'
        '    dxt = sum(p[f"W{g}"][:, n_a:].T @ d for g, d in gates.items())  # (P16)\n'
        '    return {"dxt": dxt, "da_prev": da_prev, "dc_prev": dc_prev, **grads}\n'
        "\n"
        "\n"
        "PEEPHOLE = jaxrnn.Cell(\n"
        "    cell_forward=peephole_cell_forward,\n"
        "    cell_backward=peephole_cell_backward,\n"
        "    parameter_shapes={\n"
        '        **{f"W{g}": "n_a n_a+n_x" for g in "fico"},\n'
        '        **{f"b{g}": "n_a 1" for g in "fico"},\n'
        '        **{f"p{g}": "n_a 1" for g in "fio"},\n'
        '        "Wy": "n_y n_a",\n'
        '        "by": "n_y 1",\n'
        "    },\n"
        '    state=("a", "c"),\n'
        ")\n"
        'print(PEEPHOLE.name, PEEPHOLE.state, "cache:", PEEPHOLE.cache_fields)'
    ),
    md(
        "## The minimal gated unit\n\n"
        "One gate, which both forgets and resets: "
        "$\\Gamma_f = \\sigma(W_f [a_{prev}; x_t] + b_f)$, "
        "$\\tilde c = \\tanh(W_c [\\Gamma_f * a_{prev}; x_t] + b_c)$, "
        "$a_{next} = (1 - \\Gamma_f) * a_{prev} + \\Gamma_f * \\tilde c$."
    ),
    code(
        "class MGUCache(NamedTuple):\n"
        "    a_next: object\n"
        "    a_prev: object\n"
        "    ft: object\n"
        "    cct: object\n"
        "    xt: object\n"
        "    parameters: dict\n"
        "\n"
        "\n"
        "def mgu_cell_forward(xt, a_prev, p):\n"
        '    ft = jaxrnn.sigmoid(p["Wf"] @ jnp.concatenate([a_prev, xt]) + p["bf"])\n'
        '    cct = jnp.tanh(p["Wc"] @ jnp.concatenate([ft * a_prev, xt]) + p["bc"])\n'
        "    a_next = (1 - ft) * a_prev + ft * cct\n"
        '    yt_pred = jaxrnn.softmax(p["Wy"] @ a_next + p["by"])\n'
        "    return a_next, yt_pred, MGUCache(a_next, a_prev, ft, cct, xt, p)\n"
        "\n"
        "\n"
        "def mgu_cell_backward(da_next, cache):\n"
        "    a_next, a_prev, ft, cct, xt, p = cache\n"
        "    n_a = a_prev.shape[0]\n"
        "    dcct = da_next * ft * (1 - cct**2)  # at the candidate's pre-activation\n"
        '    d_reset = p["Wc"].T @ dcct  # at [ft * a_prev; xt]\n'
        "    dft = (da_next * (cct - a_prev) + d_reset[:n_a] * a_prev) * ft * (1 - ft)\n"
        '    d_gate = p["Wf"].T @ dft  # at [a_prev; xt]\n'
        "    return {\n"
        '        "dxt": d_reset[n_a:] + d_gate[n_a:],\n'
        '        "da_prev": da_next * (1 - ft) + d_reset[:n_a] * ft + d_gate[:n_a],\n'
        '        "dWf": dft @ jnp.concatenate([a_prev, xt]).T,\n'
        '        "dbf": jnp.sum(dft, axis=1, keepdims=True),\n'
        '        "dWc": dcct @ jnp.concatenate([ft * a_prev, xt]).T,\n'
        '        "dbc": jnp.sum(dcct, axis=1, keepdims=True),\n'
        "    }\n"
        "\n"
        "\n"
        "MGU = jaxrnn.Cell(\n"
        "    cell_forward=mgu_cell_forward,\n"
        "    cell_backward=mgu_cell_backward,\n"
        '    parameter_shapes={"Wf": "n_a n_a+n_x", "bf": "n_a 1", "Wc": "n_a n_a+n_x", "bc": "n_a 1", "Wy": "n_y n_a", "by": "n_y 1"},\n'
        ")"
    ),
    md(
        "## Checked against autodiff and finite differences, at every level\n\n"
        "`check_problem` draws a random problem and runs the gradient checker: the hand-derived "
        "gradients against `jax.vjp` of the forward and against central finite differences, "
        "for one step (`cell`), a sequence, variable lengths (0 and $T_x$ among them), "
        "reversed time, a bidirectional layer, and a stack of two layers under the "
        "cross-entropy."
    ),
    code(
        "for cell in (PEEPHOLE, MGU):\n"
        '    for level in ("cell", "sequence", "lengths", "reverse", "bidirectional", "stacked"):\n'
        "        report = check_problem(cell, level, finite_differences=True)\n"
        "        worst = max(row.rel_error for row in report.rows)\n"
        '        fd = max(row["fd"].error for row in report.rows)\n'
        '        print(f"{cell.name:8} {level:13} vs jax.vjp {worst:.1e}, vs finite differences {fd:.1e}: "\n'
        "              f\"{'agrees' if report.ok else 'WRONG'}\")\n"
        "        assert report.ok\n"
        "print()\n"
        'print(check_problem(PEEPHOLE, "cell", finite_differences=True))'
    ),
    md(
        "## A mistake, caught and named\n\n"
        "Forget the peepholes' contribution to (P15), as one easily does: $c_{prev}$ reaches "
        "$\\Gamma_f$ and $\\Gamma_i$ through $p_f$ and $p_i$."
    ),
    code(
        "def forgetful_backward(da_next, dc_next, cache):\n"
        "    gradients = peephole_cell_backward(da_next, dc_next, cache)\n"
        "    a_next, c_next, a_prev, c_prev, ft, it, cct, ot, xt, p = cache\n"
        "    tanh_c = jnp.tanh(c_next)\n"
        '    dc = dc_next + ot * (1 - tanh_c**2) * da_next + p["po"] * da_next * tanh_c * ot * (1 - ot)\n'
        '    return gradients | {"dc_prev": dc * ft}  # (P15) without p_f * dft + p_i * dit\n'
        "\n"
        "\n"
        "FORGETFUL = jaxrnn.Cell(\n"
        '    cell_forward=peephole_cell_forward, cell_backward=forgetful_backward, name="forgetful",\n'
        '    parameter_shapes=PEEPHOLE.parameter_shapes, state=("a", "c"),\n'
        ")\n"
        'report = check_problem(FORGETFUL, "cell", finite_differences=True)\n'
        "print(report)\n"
        'assert report.failed == ["dc_prev"]\n'
        'sequence = check_problem(FORGETFUL, "sequence", finite_differences=True)\n'
        'print("\\nover a sequence, the wrong dc_prev reaches every earlier step:", ", ".join(sequence.failed))'
    ),
    md(
        "## Trained briefly\n\n"
        "The character model of `jaxrnn.demo.charlm` takes any cell; `jax.grad` runs the peephole "
        "LSTM's hand-derived backward through `jaxrnn.custom_vjp.of(PEEPHOLE)`."
    ),
    code(
        "model = charlm.train(PEEPHOLE, steps=300, n_a=32, seed=0, progress=False)\n"
        "start, end = np.mean(model.losses[:20]), np.mean(model.losses[-50:])\n"
        'print(f"loss {start:.1f} over the first 20 steps, {end:.1f} over the last 50")\n'
        "print([w for w in charlm.sample(model, 200, seed=1).split() if w][:8])\n"
        "assert end < 0.5 * start"
    ),
]

NOTEBOOKS = {
    "rnn_step_by_step": RNN_CELLS,
    "lstm_step_by_step": LSTM_CELLS,
    "vanishing_gradients": VANISHING_CELLS,
    "char_language_model": CHAR_CELLS,
    "your_own_cell": OWN_CELLS,
}


def build(name: str, cells) -> None:
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(HERE)}}).execute()
    path = HERE / f"{name}.ipynb"
    nbformat.write(notebook, path)
    # the code cells as ruff formats them, so that CI's `ruff format --check .` passes
    subprocess.run([sys.executable, "-m", "ruff", "format", "--quiet", str(path)], check=True)
    print(f"wrote {name}.ipynb")


if __name__ == "__main__":
    wanted = sys.argv[1:]
    for name, cells in NOTEBOOKS.items():
        if not wanted or any(w in name for w in wanted):
            build(name, cells)
