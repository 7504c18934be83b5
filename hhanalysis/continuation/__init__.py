"""Continuation: the generic PALC engine and the branch types built on it."""

from .engine import PALC, ContinuationProblem, ContinuationSettings, ContinuationStep
from .equilibria import EquilibriumBranch, continue_equilibria
from .results import SpecialPoint

__all__ = ["PALC", "ContinuationProblem", "ContinuationSettings", "ContinuationStep",
           "EquilibriumBranch", "continue_equilibria", "SpecialPoint"]
