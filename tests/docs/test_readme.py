"""The README's Python examples run as written, one after another, as a reader would."""

import pathlib
import re

import jax

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    namespace = {}
    x64 = jax.config.jax_enable_x64
    try:
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
    finally:
        jax.config.update("jax_enable_x64", x64)  # the quick start switches float64 on


def test_the_readme_is_a_door():
    """At most 200 lines: what jaxrnn is, the two commands, a report, a quick start, links."""
    text = README.read_text()
    assert len(text.splitlines()) <= 200
    for marker in ("<!-- ci: main command -->", "<!-- ci: test command -->"):
        assert marker in text


def test_the_readmes_links_lead_somewhere():
    targets = re.findall(r"\]\(([^)#]+)\)", README.read_text())
    assert targets
    missing = [t for t in targets if "://" not in t and not (README.parent / t).exists()]
    assert not missing
