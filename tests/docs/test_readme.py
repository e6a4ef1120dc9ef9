"""The README's Python examples run as written, one after another, as a reader would."""

import pathlib
import re

import jax

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 3
    namespace = {}
    x64 = jax.config.jax_enable_x64
    try:
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
    finally:
        jax.config.update("jax_enable_x64", x64)  # the quick start switches float64 on
