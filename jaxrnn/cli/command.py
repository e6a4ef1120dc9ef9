"""The ``jaxrnn`` command: its arguments, and the report, check or training each runs."""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

from jaxrnn import cells
from jaxrnn.cli.report import DTYPES, LEVELS, check
from jaxrnn.cli.train import train
from jaxrnn.cli.xla import cache_folder, persistent_cache, use_fast_compile


def run(argv=None) -> int:
    """The ``jaxrnn`` command: :func:`main`, with the persistent compilation cache of
    :func:`cache_folder`, and for ``jaxrnn check`` XLA set for compile time
    (:func:`fast_compile_flags`; ``jaxrnn train`` keeps XLA's defaults). Both are settings of
    the process, which the command (an application) makes; importing jaxrnn never does."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["check"]:
        use_fast_compile()
    folder = cache_folder()
    if folder is not None:
        persistent_cache(folder)
    return main(argv)


#: what ``jaxrnn --help`` says of each command, as plain text
_CHECK = """\
Without FILE: jaxrnn's own report. For each cell, at cell level, over a sequence, over a long
sequence (200 steps), with variable lengths, reversed, with every initial state given, as a
bidirectional layer and in a stack of layers under a loss, on every device JAX sees, in
float64 and float32, one row says whether jaxrnn's hand-derived backward pass reproduces the
documents' printed expected outputs and agrees with jax.vjp of its forward, with forward mode
(the dot-product test, in float64) and with central finite differences (float64), within the
tolerances of jaxrnn.gradcheck.tolerances. The exit status is 1 when anything disagrees.

With FILE: the report on your own solution of the documents' exercises, a .py or an .ipynb
(the files of one folder are one solution). Your code is run as you wrote it, in a process of
its own; each of the eight functions found is checked and every wrong one diagnosed. The exit
status is 0 when every exercise the file defines was checked and is right, 1 when one is
wrong, not written yet or could not run, 2 when the file cannot be read."""

_TRAIN = """\
Train a character-level language model on the corpus jaxrnn ships (dinosaur names); jax.grad
runs jaxrnn's hand-derived backward through its custom VJP."""


def main(argv=None) -> int:
    """The ``jaxrnn`` command's arguments, and the command they ask for: its exit status."""
    args = parse(argv)
    if args.command == "check":
        if args.files:
            from jaxrnn.cli.solution import check_solution

            return check_solution(args)
        return check(args)
    return train(args)


def parse(argv=None) -> argparse.Namespace:
    """The ``jaxrnn`` command's arguments, each checked and checked with the others; a wrong
    one exits with status 2 and says why, as argparse does."""
    import jaxrnn

    parser = argparse.ArgumentParser(
        prog="jaxrnn",
        description="Recurrent networks in JAX whose hand-derived backward passes are checked "
        "against automatic differentiation.",
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=f"jaxrnn {jaxrnn.__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check_parser = commands.add_parser(
        "check",
        help="check the hand-derived backward passes, or your own solution of the exercises",
        description=_CHECK,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    check_parser.add_argument(
        "files", nargs="*", metavar="FILE",
        help="your solution, a .py or an .ipynb (several when its functions are spread over "
        "modules): its code is run, in a process of its own, as you wrote it (that is what "
        "you ask for), each of the documents' eight functions found in it is checked, and "
        "every wrong one diagnosed. Without FILE: jaxrnn's own report",
    )  # fmt: skip
    check_parser.add_argument(
        "--json", action="store_true",
        help="print the report as JSON (jaxrnn's own: its rows; each row's progress goes to "
        "the standard error)",
    )  # fmt: skip
    check_parser.add_argument(
        "--html", type=_writable, metavar="PAGE",
        help="also write the report as one self-contained page (no network needed to open "
        "it): with FILE, each wrong exercise's suspect equations beside your lines and its "
        "errors drawn; without, the rows and their errors against their tolerances",
    )  # fmt: skip
    check_parser.add_argument(
        "--exercise", nargs="+", metavar="N",
        help="with FILE: only these exercises (1-8, or the functions' names)",
    )  # fmt: skip
    check_parser.add_argument(
        "--timeout", type=_seconds, default=10.0,
        help="with FILE: seconds each call into your code may take (default 10, at most a day)",
    )  # fmt: skip
    check_parser.add_argument(
        "--show-output", action="store_true",
        help="with FILE: also print what your code printed (kept apart from the report; with "
        "--json, as its output field)",
    )  # fmt: skip
    check_parser.add_argument("--device", default="all", help="all (default), cpu, gpu, cpu:0...")
    check_parser.add_argument(
        "--cell", nargs="+", default=list(cells.CELLS),
        help=f"{', '.join(cells.CELLS)} (default: all), {', '.join(cells.RECURRENCES)}, or "
        "package.module:NAME for a cell of your own; NAME.parallel_scan for a linear one on its "
        "parallel scan (mingru.parallel_scan)",
    )  # fmt: skip
    check_parser.add_argument(
        "--dtype", nargs="+", default=["float64", "float32"], choices=list(DTYPES),
        metavar="DTYPE", help=f"{', '.join(DTYPES)}: float64 and float32 by default",
    )  # fmt: skip
    check_parser.add_argument(
        "--level", nargs="+", default=list(LEVELS), choices=list(LEVELS), metavar="LEVEL",
        help=f"{', '.join(LEVELS)} (default: all)",
    )  # fmt: skip
    check_parser.add_argument(
        "--all", action="store_true",
        help=f"every cell: those above and today's recurrences, linear in the state "
        f"({', '.join(cells.RECURRENCES)}), step by step and on their parallel scan, whose long "
        f"rows run 10,000 steps",
    )  # fmt: skip
    check_parser.add_argument("--verbose", action="store_true", help="print every gradient")
    check_parser.add_argument(
        "--jobs", type=_at_least(1), metavar="N",
        help="processes to run the rows in (default: one per CPU core, up to 4, for rows on "
        "the CPU; one for rows on an accelerator)",
    )  # fmt: skip
    train_parser = commands.add_parser(
        "train",
        help="train a character-level model with the hand-derived gradients",
        description=_TRAIN,
    )
    train_parser.add_argument("--cell", default="gru", choices=list(cells.CELLS))
    train_parser.add_argument("--steps", type=_at_least(1), default=2000)
    train_parser.add_argument("--hidden", type=_at_least(1), default=64, help="n_a")
    train_parser.add_argument("--seed", type=_at_least(0), default=0)
    train_parser.add_argument(
        "--optimizer", default="adam", choices=["adam", "adamw", "rmsprop", "sgd"],
        help="an Optax optimizer, after clipping the gradients' global norm to 5 (default adam)",
    )  # fmt: skip
    train_parser.add_argument(
        "--learning-rate", type=_positive_number, default=1e-2, help="default 0.01"
    )
    train_parser.add_argument(
        "--chunk", type=_at_least(1), metavar="T",
        help="read the names in chunks of T characters, each starting from the state the last "
        "one ended with (truncated backpropagation through time); by default random windows "
        "of 25, each from zero states",
    )  # fmt: skip
    train_parser.add_argument(
        "--save", type=_writable, help="write the trained model to this file (.npz format)"
    )
    train_parser.add_argument(
        "--processes", type=_at_least(1), metavar="N",
        help="train in N processes, one per host or accelerator, each batch split over all "
        "their devices; every process runs the same command with its own --process-id",
    )  # fmt: skip
    train_parser.add_argument(
        "--process-id", type=_at_least(0), metavar="I", help="with --processes: 0 to N-1"
    )
    train_parser.add_argument(
        "--coordinator", metavar="HOST:PORT",
        help="with --processes: process 0's address and a free port, the same in every process",
    )  # fmt: skip
    train_parser.add_argument(
        "--distributed", action="store_true",
        help="join the processes JAX finds in the environment (SLURM, Kubernetes, Open MPI), "
        "instead of --processes, --process-id and --coordinator",
    )  # fmt: skip
    train_parser.add_argument(
        "--plot", type=_writable, help="write the loss curve to this image (needs matplotlib)"
    )
    args = parser.parse_args(argv)
    if args.command == "check":
        _check_options(check_parser, args)
    else:
        _train_options(train_parser, args)
    return args


#: the options of jaxrnn's own report, and of the report on a solution
_REPORT_OPTIONS = ("device", "cell", "dtype", "level", "verbose", "jobs", "all")
_SOLUTION_OPTIONS = ("exercise", "show_output", "timeout")


def _check_options(parser, args) -> None:
    """Options that belong to the other report are an error, not ignored."""
    defaults = {action.dest: action.default for action in parser._actions}
    wrong = [o for o in (_REPORT_OPTIONS if args.files else _SOLUTION_OPTIONS)
             if getattr(args, o) != defaults[o]]  # fmt: skip
    if args.files and wrong:
        parser.error(f"--{wrong[0].replace('_', '-')} is an option of jaxrnn's own report, "
                     f"not of a check of FILE")  # fmt: skip
    if wrong:
        parser.error(f"--{wrong[0].replace('_', '-')} needs a FILE to check")


def _train_options(parser, args) -> None:
    """The distributed options go together, and --process-id is one of the processes."""
    given = [args.processes is not None, args.process_id is not None, args.coordinator is not None]
    if args.distributed and any(given):
        parser.error("--distributed finds the processes itself: give it without --processes, "
                     "--process-id and --coordinator")  # fmt: skip
    if any(given) and not all(given):
        parser.error("--processes, --process-id and --coordinator go together: every process "
                     "runs the same command with its own --process-id")  # fmt: skip
    if all(given):
        if args.process_id >= args.processes:
            parser.error(f"--process-id: must be below --processes ({args.processes}); got "
                         f"{args.process_id}")  # fmt: skip
        host, _, port = args.coordinator.rpartition(":")
        if not host or not port.isdigit():
            parser.error(f"--coordinator: HOST:PORT, such as 10.0.0.1:1234; got "
                         f"{args.coordinator!r}")  # fmt: skip


def _at_least(minimum: int):
    """An argparse type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}; got {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


def _positive_number(text: str) -> float:
    """An argparse type: a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number above 0; got {text}")
    return value


def _seconds(text: str) -> float:
    """An argparse type: a number of seconds above 0 and at most a day."""
    from jaxrnn.solution import MAX_TIMEOUT

    value = _positive_number(text)
    if value > MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_TIMEOUT:g} (a day); got {text}")
    return value


def _writable(text: str) -> pathlib.Path:
    """An argparse type: a file path whose folder exists and can be written to."""
    path = pathlib.Path(text)
    folder = path.parent if str(path.parent) else pathlib.Path(".")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder, not a file")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise argparse.ArgumentTypeError(f"{text!r} cannot be written")
    return path


__all__ = ["main", "parse", "run"]
