import gc

import jax
import numpy as np
import pytest

import hhanalysis as hh


@pytest.fixture(scope="module", autouse=True)
def _free_compiled_programs():
    """Drop JAX's compiled executables after each test module. Every executable keeps a few
    memory mappings of JIT code; a full run compiles enough of them to reach the kernel's
    ``vm.max_map_count`` (65530 here), after which the next compilation segfaults (seen late in
    the run, in tests/test_simulate.py). Programs needed again come back from the persistent
    compilation cache."""
    yield
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
