"""Two processes joined by JAX's distributed runtime (gloo's CPU collectives), each with two
host devices, give one process's answers: the three cells' gradients on a global batch made of
both processes' examples, and 20 steps of ``jaxrnn train --processes 2``.

The processes are tests/distributed_child.py, on a free loopback port, each bounded by a
timeout and both ended if either fails. Where the installed jaxlib has no CPU collectives the
test is skipped, saying so. Tolerance: float32's agreement tolerance (tolerances.AGREEMENT),
since a batch split over four devices sums its gradients in another order.
"""

from __future__ import annotations

import os
import pathlib
import re
import socket
import subprocess
import sys

import jax
import numpy as np
import pytest

from jaxrnn import parallel
from jaxrnn.demo import charlm
from jaxrnn.gradcheck.tolerances import AGREEMENT, scaled_error

CHILD = pathlib.Path(__file__).with_name("distributed_child.py")
TIMEOUT = 300  # seconds for the whole two-process run; it takes about 10 s on 2 cores


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_two(out: pathlib.Path):
    """Both processes' ``(returncode, stdout, stderr)``; neither outlives the call."""
    coordinator = f"127.0.0.1:{free_port()}"
    # the suite's XLA flags kept (XLA set for compile time: 6 s of CPU a process, not 27)
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=2"
    env = {**os.environ, "XLA_FLAGS": flags.strip(), "JAX_PLATFORMS": "cpu"}
    children = [
        subprocess.Popen([sys.executable, str(CHILD), str(i), coordinator, str(out)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]  # fmt: skip
    try:
        outputs = [c.communicate(timeout=TIMEOUT) for c in children]
        return [(c.returncode, *o) for c, o in zip(children, outputs, strict=True)]
    except subprocess.TimeoutExpired:
        pytest.fail(f"the two processes did not finish within {TIMEOUT} s")
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()
                c.communicate()


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    out = tmp_path_factory.mktemp("distributed")
    done = run_two(out)
    if any(rc == 77 for rc, _, _ in done):
        pytest.skip("this jaxlib has no CPU collectives (gloo): " + done[0][2][-300:])
    for i, (rc, so, se) in enumerate(done):
        assert rc == 0, f"process {i} exited {rc}:\n{se[-3000:]}"
        assert so.strip().endswith("ok")
    return out, done


def test_gradients_over_two_processes_equal_one_process(two_processes):
    sys.path.insert(0, str(CHILD.parent))
    import distributed_child as child

    out, _ = two_processes
    got = dict(np.load(out / "grads.npz"))
    tol = AGREEMENT[np.dtype("float32")]
    want = {}
    for name in ("rnn", "lstm", "gru"):
        cell, p, x, a0, da, labels = child.problem(name)
        found = parallel.gather(child.gradients(name, x, a0, p, da, labels.T))
        for key, value in jax.tree_util.tree_flatten_with_path(found)[0]:
            want[f"{name}/{jax.tree_util.keystr(key)}"] = value
    assert sorted(got) == sorted(want) and len(want) > 3 * 20
    worst = {k: scaled_error(got[k], want[k], tol) for k in want}
    assert max(worst.values()) <= 1, sorted(worst.items(), key=lambda kv: -kv[1])[:3]


#: the words of gloo's connection message, which a process of two prints from its threads
GLOO_WORDS = set(
    "[Gloo] Rank is connected to peer ranks. Expected number of connected peer ranks is :".split()
)


def test_training_over_two_processes_equals_one_process(two_processes):
    """20 steps of ``jaxrnn train --processes 2``: each process fed its half of every batch of
    32; the loss curve and the weights are one process's, to rounding."""
    out, done = two_processes
    two = charlm.load(out / "model0.npz")
    assert not (out / "model1.npz").exists()  # process 0 writes for both
    assert "2 processes, 4 devices" in done[0][1]
    # process 1 says nothing of its own but "ok"; gloo's connection messages ("[Gloo] Rank 2
    # is connected to 3 peer ranks. Expected number of connected peer ranks is : 3"), written
    # piece by piece by its threads, may run into one another anywhere between the pieces:
    # their words and numbers are gloo's, wherever they land
    words = re.findall(r"\[Gloo\]|\d+|[^\s\d\[]+|\S", done[1][1])
    own = [w for w in words if w not in GLOO_WORDS and not w.isdigit()]
    assert own == ["ok"], done[1][1][-2000:]
    one = charlm.train("gru", steps=20, n_a=16, seed=0, progress=False)
    tol = AGREEMENT[np.dtype("float32")]
    assert len(two.losses) == 20 and two.losses[-1] < two.losses[0]
    assert scaled_error(np.array(two.losses), np.array(one.losses), tol) <= 1
    for key, value in one.parameters.items():
        assert scaled_error(two.parameters[key], value, tol) <= 1, key
