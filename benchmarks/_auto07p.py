"""Run AUTO-07p (Debian package ``auto-07p``) on an hhanalysis model, for benchmarks.

The equations file is generated from the model's sympy right-hand side and its analytic
Jacobians (``sympy.fcode``), so AUTO solves exactly our equations with JAC=1. The executable is
compiled once (gfortran, as AUTO's own ``@r`` does) and then run directly on a constants file, so
the timings are AUTO's computation, not its Python front end (which breaks under numpy 2) or the
compiler. Runs use ``OMP_NUM_THREADS=1`` (faster on 2 cores).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

AUTO_DIR = Path("/usr/lib/auto-07p")


def ensure_auto07p() -> None:
    """Install auto-07p and gfortran with apt-get if absent."""
    if (AUTO_DIR / "lib" / "main.o").exists() and shutil.which("gfortran"):
        return
    print("installing auto-07p and gfortran (apt-get) ...", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "auto-07p", "gfortran"], check=True,
                   stdout=subprocess.DEVNULL)


def _fortran(expr, subs) -> str:
    return sp.fcode(sp.sympify(expr).xreplace(subs), source_format="free", standard=95,
                    strict=False)


def equations_f90(model, start_state, cont_param: str) -> str:
    """AUTO equations file: FUNC with analytic DFDU/DFDP, STPNT at ``start_state``."""
    n = model.n_states
    names = [cont_param] + [p for p in model.param_names if p != cont_param]
    subs = {model.symbol(s): sp.Symbol(f"U({i + 1})") for i, s in enumerate(model.state_names)}
    subs.update({model.symbol(p): sp.Symbol(f"PAR({names.index(p) + 1})")
                 for p in model.param_names})
    f = sp.Matrix(model.rhs)
    x = [model.symbol(s) for s in model.state_names]
    J = f.jacobian(x)
    Jp = f.jacobian([model.symbol(p) for p in names])
    lines = [
        "SUBROUTINE FUNC(NDIM,U,ICP,PAR,IJAC,F,DFDU,DFDP)",
        "  IMPLICIT NONE",
        "  INTEGER, INTENT(IN) :: NDIM, ICP(*), IJAC",
        "  DOUBLE PRECISION, INTENT(IN) :: U(NDIM), PAR(*)",
        "  DOUBLE PRECISION, INTENT(OUT) :: F(NDIM)",
        "  DOUBLE PRECISION, INTENT(INOUT) :: DFDU(NDIM,NDIM), DFDP(NDIM,*)",
    ]
    lines += [f"  F({i + 1}) = {_fortran(f[i], subs)}" for i in range(n)]
    lines += ["  IF (IJAC == 0) RETURN"]
    lines += [f"  DFDU({i + 1},{j + 1}) = {_fortran(J[i, j], subs)}"
              for i in range(n) for j in range(n)]
    lines += ["  IF (IJAC == 1) RETURN"]
    lines += [f"  DFDP({i + 1},{j + 1}) = {_fortran(Jp[i, j], subs)}"
              for i in range(n) for j in range(len(names))]
    lines += ["END SUBROUTINE FUNC", "",
              "SUBROUTINE STPNT(NDIM,U,PAR,T)",
              "  IMPLICIT NONE",
              "  INTEGER, INTENT(IN) :: NDIM",
              "  DOUBLE PRECISION, INTENT(INOUT) :: U(NDIM), PAR(*)",
              "  DOUBLE PRECISION, INTENT(IN) :: T"]
    defaults = model.defaults
    lines += [f"  PAR({k + 1}) = {defaults[p]!r}D0" for k, p in enumerate(names)]
    lines += [f"  U({i + 1}) = {float(v)!r}D0" for i, v in enumerate(start_state)]
    lines += ["END SUBROUTINE STPNT", ""]
    for name, args in [("BCND", "NDIM,PAR,ICP,NBC,U0,U1,FB,IJAC,DBC"),
                       ("ICND", "NDIM,PAR,ICP,NINT,U,UOLD,UDOT,UPOLD,FI,IJAC,DINT"),
                       ("FOPT", "NDIM,U,ICP,PAR,IJAC,FS,DFDU,DFDP"),
                       ("PVLS", "NDIM,U,PAR")]:
        lines += [f"SUBROUTINE {name}({args})", f"END SUBROUTINE {name}", ""]
    # wrap long lines with free-form continuation
    out = []
    for line in lines:
        while len(line) > 120:
            out.append(line[:120] + "&")
            line = "&" + line[120:]
        out.append(line)
    return "\n".join(out) + "\n"


@dataclass
class AutoRun:
    seconds: float
    points: list  # rows of the b-file: (type code, label, PAR(1), [the other columns])
    stdout: str
    solutions: str = ""  # the s-file (fort.8), to restart from


class AutoModel:
    """A compiled AUTO-07p executable for one model and continuation parameter."""

    def __init__(self, model, start_state, cont_param: str):
        ensure_auto07p()
        self.dir = Path(tempfile.mkdtemp(prefix="hh_auto07p_"))
        (self.dir / "hh.f90").write_text(equations_f90(model, start_state, cont_param))
        t = time.perf_counter()
        subprocess.run(["gfortran", "-O2", "-fopenmp", "-c", "hh.f90", "-o", "hh.o"],
                       cwd=self.dir, check=True)
        subprocess.run(["gfortran", "-fopenmp", "hh.o", *sorted(glob.glob(str(AUTO_DIR / "lib" /
                                                                              "*.o"))),
                        "-o", "hh.exe"], cwd=self.dir, check=True)
        self.compile_seconds = time.perf_counter() - t
        self.n = model.n_states

    def run(self, constants: str, restart: str | None = None) -> AutoRun:
        """Run with the constants file ``constants``; ``restart`` is the s-file (fort.8) of an
        earlier run holding the IRS label (AUTO reads it as fort.3)."""
        for f in ("fort.7", "fort.8", "fort.9", "fort.3"):
            (self.dir / f).unlink(missing_ok=True)
        if restart is not None:
            (self.dir / "fort.3").write_text(restart)
        (self.dir / "fort.2").write_text(constants)
        env = dict(os.environ, OMP_NUM_THREADS="1")
        t = time.perf_counter()
        proc = subprocess.run(["./hh.exe"], cwd=self.dir, env=env, capture_output=True,
                              text=True, check=True)
        seconds = time.perf_counter() - t
        s_file = self.dir / "fort.8"
        return AutoRun(seconds, self._parse_b(), proc.stdout,
                       s_file.read_text() if s_file.exists() else "")

    def _parse_b(self):
        rows = []
        for line in (self.dir / "fort.7").read_text().splitlines():
            parts = line.split()
            if len(parts) < 6 or parts[0] == "0":
                continue
            try:
                ty, lab = int(parts[2]), int(parts[3])
                vals = [float(v) for v in parts[4:]]
            except ValueError:
                continue
            rows.append((ty, lab, vals[0], vals[2:]))
        return rows

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def equilibrium_constants(ds: float, stop_lo: float, stop_hi: float, ndim: int = 4,
                          npar: int = 10) -> str:
    """AUTO constants of the reference runs (shared/reference settings_equilibria)."""
    return f"""NDIM= {ndim}, IPS = 1, IRS = 0, ILP = 1
ICP = [1]
NTST= 100, NCOL= 4, IAD = 3, ISP = 2, ISW = 1, IPLT= 0, NBC= 0, NINT= 0
NMX= 2000, NPR= 0, MXBF= 10, IID = 2, ITMX= 8, ITNW= 7, NWTN= 3, JAC= 1
EPSL= 1e-10, EPSU = 1e-10, EPSS = 1e-08
DS = {ds}, DSMIN= 1e-06, DSMAX= 0.5, IADS= 1
NPAR = {npar}, THL = {{}}, THU = {{}}
UZSTOP = {{1: [{stop_lo}, {stop_hi}]}}
"""


def periodic_constants(irs: int, stop: str, ntst: int = 100, ncol: int = 4, ndim: int = 4,
                       npar: int = 15) -> str:
    """AUTO constants of the reference periodic runs (IPS=2 from Hopf label ``irs``, ICP = I and
    the period PAR(11) with THL {11: 0}, DS=0.01, DSMAX=0.5), stopping at ``stop`` (e.g. 'LP1')."""
    return f"""NDIM= {ndim}, IPS = 2, IRS = {irs}, ILP = 1
ICP = [1, 11]
NTST= {ntst}, NCOL= {ncol}, IAD = 3, ISP = 2, ISW = 1, IPLT= 0, NBC= 0, NINT= 0
NMX= 2000, NPR= 0, MXBF= 10, IID = 2, ITMX= 8, ITNW= 7, NWTN= 3, JAC= 1
EPSL= 1e-10, EPSU = 1e-10, EPSS = 1e-08
DS = 0.01, DSMIN= 1e-06, DSMAX= 0.5, IADS= 1
NPAR = {npar}, THL = {{11: 0}}, THU = {{}}
UZSTOP = {{1: [-10, 260]}}
STOP = ['{stop}']
"""
