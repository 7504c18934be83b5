import gc
from pathlib import Path

import jax
import numpy as np
import pytest

import hhanalysis as hh


def _memory_maps() -> int | None:
    """The number of memory mappings of this process (Linux), None where it cannot be read."""
    try:
        with open("/proc/self/maps", "rb") as maps:
            return sum(1 for _ in maps)
    except OSError:
        return None


def _map_limit() -> int:
    try:
        return int(Path("/proc/sys/vm/max_map_count").read_text())
    except (OSError, ValueError):
        return 65530


#: Drop the compiled programs once the process holds this many memory mappings.
MAP_BUDGET = _map_limit() // 3


@pytest.fixture(scope="module", autouse=True)
def _free_compiled_programs():
    """Drop JAX's compiled executables after a test module once the process holds more than a
    third of the kernel's ``vm.max_map_count`` memory mappings (always where they cannot be
    counted). Every executable keeps a few memory mappings of JIT code; a full run compiles
    enough of them to reach the limit (65530 here), after which the next compilation segfaults
    (seen late in the run, in tests/test_simulate.py). Clearing after every module instead made
    each module trace (and fetch from the persistent compilation cache) again the programs the
    modules before it had compiled, e.g. the continuation solvers of the HH presets."""
    yield
    maps = _memory_maps()
    if maps is None or maps > MAP_BUDGET:
        jax.clear_caches()
        gc.collect()


@pytest.fixture
def x64():
    """JAX's 64-bit mode for a test that calls internals directly or traces the generated
    functions itself (jax.vmap, jax.jacfwd). ``import hhanalysis`` leaves x64 off; the public
    entry points turn it on for their own calls."""
    with jax.enable_x64(True):
        yield


@pytest.fixture(scope="session")
def hh_model():
    return hh.hodgkin_huxley()


@pytest.fixture(scope="session")
def models():
    """The three shipped models, with a sampler of plausible states."""
    rng = np.random.default_rng(0)

    def hh_states(k):
        return np.column_stack(
            [rng.uniform(-90, 40, k), rng.uniform(0, 1, k), rng.uniform(0, 1, k),
             rng.uniform(0, 1, k)]
        )

    def fhn_states(k):
        return rng.uniform(-2, 2, (k, 2))

    def ml_states(k):
        return np.column_stack([rng.uniform(-70, 40, k), rng.uniform(0, 1, k)])

    return {
        "hh_brainpy": (hh.hodgkin_huxley(), hh_states),
        "hh_classic": (hh.hodgkin_huxley(preset="classic", I=7.0, T=10.0), hh_states),
        "fhn": (hh.fitzhugh_nagumo(I=0.5), fhn_states),
        "ml": (hh.morris_lecar(I=40.0), ml_states),
    }


@pytest.fixture(scope="session")
def hh_diagrams():
    """``hhanalysis.figures.diagrams()``: the bifurcation diagrams in I over [-10, 200] of both
    HH presets, the ones ``reproduce`` draws, computed once per session for the tests that
    check them (tests/test_cycles.py, tests/test_cli_figures.py)."""
    from hhanalysis import figures

    return figures.diagrams()
