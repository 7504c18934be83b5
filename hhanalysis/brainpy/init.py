"""Initializers, as BrainPy's ``bp.init`` (see :mod:`hhanalysis.simulate.initializers`)."""

from ..simulate.initializers import (
    Constant,
    Initializer,
    Normal,
    OneInit,
    SteadyState,
    Uniform,
    ZeroInit,
)

__all__ = ["Constant", "Initializer", "Normal", "OneInit", "SteadyState", "Uniform", "ZeroInit"]
