"""The XLA settings of jaxrnn's commands, for the process that runs them: JAX's persistent
compilation cache (``$JAXRNN_CACHE``) and XLA's CPU compiler set for compile time
(``$JAXRNN_FAST_COMPILE``). Settings of a process, which an application (``jaxrnn check``, the
test suite) makes; importing jaxrnn never does. This module imports JAX and nothing of the
command line, so that the tests can set what the commands set.
"""

from __future__ import annotations

import os
import pathlib
import sys

import jax

#: where the commands keep JAX's persistent compilation cache: a folder, or "off" for none
CACHE_VARIABLE = "JAXRNN_CACHE"


def cache_folder() -> pathlib.Path | None:
    """The persistent compilation cache's folder: ``$JAXRNN_CACHE``, else ``jaxrnn/xla`` in the
    user's cache folder (``$XDG_CACHE_HOME``, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%``
    on Windows, ``~/.cache``); ``None`` where ``$JAXRNN_CACHE`` is ``off`` or JAX's own
    ``JAX_COMPILATION_CACHE_DIR`` is set (JAX then reads that one itself)."""
    chosen = os.environ.get(CACHE_VARIABLE)
    if chosen is not None:
        return None if chosen.lower() in ("", "off", "0", "no") else pathlib.Path(chosen)
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return None
    if os.environ.get("XDG_CACHE_HOME"):
        base = pathlib.Path(os.environ["XDG_CACHE_HOME"])
    elif sys.platform == "darwin":
        base = pathlib.Path.home() / "Library" / "Caches"
    elif sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = pathlib.Path(os.environ["LOCALAPPDATA"])
    else:
        base = pathlib.Path.home() / ".cache"
    return base / "jaxrnn" / "xla"


def persistent_cache(folder) -> None:
    """JAX's persistent compilation cache in ``folder``, every program in it (the report's
    programs each compile in well under JAX's default threshold of a second), so that a second
    run reads its compiled programs instead of compiling them again. A global setting of JAX:
    the commands (an application) set it; importing jaxrnn never does."""
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


#: set to ``off`` to compile ``jaxrnn check``'s programs with XLA's default options
FAST_COMPILE_VARIABLE = "JAXRNN_FAST_COMPILE"

#: XLA's CPU compiler set for compile time, which is what the checks spend (small programs,
#: each run a few times): the elemental emitters instead of the fusion emitters and one code
#: generation thread per program. The same operations, rounded as IEEE arithmetic rounds them
#: (no fast math); times in benchmarks/README.md.
FAST_COMPILE_FLAGS = ("--xla_cpu_use_fusion_emitters=false",
                      "--xla_cpu_parallel_codegen_split_count=1")  # fmt: skip
#: LLVM without its optimizations: a setting of every backend's code generation, so only
#: where JAX can find no accelerator
CPU_ONLY_FLAGS = ("--xla_backend_optimization_level=0",)
#: the jaxlib releases these flags were measured with; another release's XLA is asked first
#: (in a subprocess: XLA stops the process on a flag it does not know)
VERIFIED_JAXLIB = ("0.10.",)


def fast_compile_flags(environ=os.environ) -> str | None:
    """``XLA_FLAGS`` with :data:`FAST_COMPILE_FLAGS` before the caller's own (which win where
    they set the same flag), or ``None``: where ``$JAXRNN_FAST_COMPILE`` is ``off``, or this
    jaxlib's XLA does not take them. For a process whose backends have not started: XLA reads
    its flags once."""
    if environ.get(FAST_COMPILE_VARIABLE, "").lower() in ("off", "0", "no"):
        return None
    ours = [*FAST_COMPILE_FLAGS, *(() if accelerator_possible(environ) else CPU_ONLY_FLAGS)]
    if not _xla_takes(ours):
        return None
    return " ".join([*ours, environ.get("XLA_FLAGS", "")]).strip()


def use_fast_compile() -> bool:
    """Set this process's ``XLA_FLAGS`` to :func:`fast_compile_flags`, where they apply: before
    JAX's first backend starts, which reads them once (worker processes inherit them).
    Whether they were set."""
    flags = fast_compile_flags()
    if flags is not None:
        os.environ["XLA_FLAGS"] = flags
    return flags is not None


def _xla_takes(flags) -> bool:
    import subprocess

    import jaxlib

    if jaxlib.__version__.startswith(VERIFIED_JAXLIB):
        return True
    probe = "import jax; jax.jit(lambda x: x + 1)(1.0)"
    env = {**os.environ, "XLA_FLAGS": " ".join(flags), "JAX_PLATFORMS": "cpu"}
    try:
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                              timeout=120)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def accelerator_possible(environ=os.environ) -> bool:
    """Whether JAX may find a device other than the CPU: a platform other than ``cpu`` asked
    for (``$JAX_PLATFORMS``), or, with none asked for, a PJRT plugin installed (CUDA, ROCm,
    TPU), which JAX would load."""
    import importlib.metadata
    import importlib.util
    import pkgutil

    asked = environ.get("JAX_PLATFORMS") or jax.config.jax_platforms
    if asked:
        return any(p.strip() not in ("", "cpu") for p in asked.split(","))
    if importlib.util.find_spec("libtpu") is not None:
        return True
    if importlib.metadata.entry_points(group="jax_plugins"):
        return True
    try:
        import jax_plugins
    except ImportError:
        return False
    return any(pkgutil.iter_modules(jax_plugins.__path__))


__all__ = [
    "CACHE_VARIABLE", "CPU_ONLY_FLAGS", "FAST_COMPILE_FLAGS", "FAST_COMPILE_VARIABLE",
    "VERIFIED_JAXLIB", "accelerator_possible", "cache_folder", "fast_compile_flags",
    "persistent_cache", "use_fast_compile"
]  # fmt: skip
