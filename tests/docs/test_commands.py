"""The shell commands of the README and the site's pages: every ``jaxrnn`` command is one the
command line accepts, and every extra a ``pip install`` names exists.

The commands themselves run elsewhere: the README's two in CI, ``jaxrnn check FILE`` in
tests/solution, training in tests/demo and tests/test_distributed. Here each is parsed, so a
renamed option or command cannot leave a page that no longer works."""

import pathlib
import re
import shlex
from importlib import metadata

import pytest

from jaxrnn.cli import command

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
PAGES = [p for p in PAGES if "_build" not in p.parts and "notebooks" not in p.parts]


def shell_lines():
    """``(page, line)`` for each command line of the pages' bash blocks, comments removed."""
    for page in PAGES:
        for block in re.findall(r"```bash\n(.*?)```", page.read_text(), flags=re.S):
            for line in block.splitlines():
                line = line.split(" #", 1)[0].strip()
                if line and not line.startswith("#"):
                    yield page.relative_to(ROOT), line


LINES = list(shell_lines())


def commands(program: str):
    """Each ``program ...`` of the pages' command lines, as ``(page, arguments)``."""
    for page, line in LINES:
        for part in re.split(r"&&|;", line):
            words = shlex.split(part)
            if words[:1] == [program]:
                yield page, words[1:]


def test_the_pages_have_commands():
    assert len(list(commands("jaxrnn"))) >= 8


@pytest.mark.parametrize(
    "page,arguments",
    [pytest.param(p, a, id=" ".join(a) or "jaxrnn") for p, a in commands("jaxrnn")],
)
def test_every_jaxrnn_command_parses(page, arguments, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # --save and --plot are checked to be writable here
    try:
        args = command.parse(arguments)
    except SystemExit as stopped:
        pytest.fail(f"{page}: jaxrnn {' '.join(arguments)} is refused (exit {stopped.code})")
    assert args.command in ("check", "train")


def test_every_extra_installed_exists():
    extras = metadata.metadata("jaxrnn").get_all("Provides-Extra")
    named = {
        extra
        for _, line in LINES
        for group in re.findall(r'"\.\[([a-z,]+)\]"', line)
        for extra in group.split(",")
    }
    assert named, "no pip install of an extra found"
    assert named <= set(extras), named - set(extras)
