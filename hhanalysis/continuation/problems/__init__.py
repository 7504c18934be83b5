"""Continuation problems: one small module per defining system (equilibrium, periodic orbit, and
the codim-1 curves), each giving the residual of ``u = (state part, free parameters)`` and what
the driver (:mod:`hhanalysis.continuation.driver`) needs around it."""
