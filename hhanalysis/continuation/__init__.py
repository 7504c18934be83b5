"""Continuation: the generic PALC engine and the branch types built on it."""

from .collocation import Collocation
from .curves import CURVE_SETTINGS, BifurcationCurve, continue_fold, continue_hopf
from .cycle_curves import (
    LPC_CURVE_SETTINGS,
    CycleCurve,
    continue_lpc,
    continue_ns,
    continue_pd,
)
from .cycles import (
    CYCLE_SETTINGS,
    CycleBranch,
    HomoclinicEnd,
    SimulatedOrbit,
    classify_end,
    continue_cycles,
    simulate_cycle,
)
from .diagram import BifurcationDiagram, bifurcation_diagram
from .engine import PALC, ContinuationProblem, ContinuationSettings, ContinuationStep
from .equilibria import EquilibriumBranch, continue_equilibria
from .points import (
    FoldPoint,
    HopfPoint,
    PeriodicOrbit,
    fold_point,
    hopf_point,
    lpc_point,
    periodic_orbit,
)
from .results import (
    ContinuationError,
    CycleData,
    FoldData,
    HopfData,
    SpecialPoint,
    Status,
    Stop,
)
from .two_parameter import TwoParameterDiagram, two_parameter_diagram

__all__ = ["PALC", "ContinuationProblem", "ContinuationSettings", "ContinuationStep",
           "EquilibriumBranch", "continue_equilibria", "SpecialPoint", "Status", "Stop",
           "HopfData", "FoldData", "CycleData", "ContinuationError", "Collocation",
           "CYCLE_SETTINGS", "CycleBranch", "continue_cycles", "BifurcationDiagram",
           "bifurcation_diagram", "HopfPoint", "FoldPoint", "PeriodicOrbit", "hopf_point",
           "fold_point", "lpc_point", "periodic_orbit", "BifurcationCurve", "CURVE_SETTINGS",
           "continue_hopf", "continue_fold", "TwoParameterDiagram", "two_parameter_diagram",
           "HomoclinicEnd", "SimulatedOrbit", "CycleCurve", "continue_lpc",
           "continue_pd", "continue_ns", "LPC_CURVE_SETTINGS",
           "classify_end", "simulate_cycle"]
