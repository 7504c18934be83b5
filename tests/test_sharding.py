"""The sweeps and the simulated populations split over several devices (jax.sharding,
hhanalysis.sharding) give the same results as on one device: run in a subprocess with four forced
CPU devices."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hhanalysis as hh

SCRIPT = r"""
import json, numpy as np, jax
import hhanalysis as hh
assert jax.device_count() == 4, jax.devices()
out = {}
m = hh.hodgkin_huxley()
g = dict(I=np.linspace(0, 40, 23)[:, None], gK=np.linspace(20, 50, 7))  # 161: not a multiple of 4
a, b = hh.find_equilibria(m, devices="all", **g), hh.find_equilibria(m, **g)
out["hh"] = [np.array_equal(a.x, b.x, equal_nan=True),
             np.array_equal(a.eigenvalues, b.eigenvalues, equal_nan=True),
             bool((a.count == b.count).all())]
ml, p = hh.morris_lecar(), dict(I=np.linspace(-10, 90, 13), gCa=np.linspace(3.5, 4.5, 13))
a, b = hh.find_equilibria(ml, devices=3, **p), hh.find_equilibria(ml, **p)  # one scan per point
out["ml"] = [np.array_equal(a.x, b.x, equal_nan=True), bool((a.count == b.count).all()),
             int(a.x.shape[-2])]
kw = dict(gK=np.array([30.0, 36.0, 40.0]), transient=50.0, window=50.0)
s1 = hh.sweep(m, "I", np.array([2.0, 5.0, 10.0]), devices="all", **kw)
s0 = hh.sweep(m, "I", np.array([2.0, 5.0, 10.0]), **kw)
out["sweep"] = [np.array_equal(s1.regime, s0.regime),
                np.array_equal(s1.period, s0.period, equal_nan=True)]
import hhanalysis.brainpy as bp
import hhanalysis.simulate as sim
runs, X0 = [], None
for devices in (None, "all"):  # a population of 1003 (padded to 1004) split over 4 devices
    g = bp.dyn.HH(1003)
    X0 = g.X if X0 is None else X0
    g.X = X0  # the same random initial state
    r = bp.dyn.DSRunner(g, monitors={"V": [0, 500, 1002], "spike": None},
                        inputs=("input", np.linspace(0, 20, 1003)), dt=0.01,
                        execution=sim.Execution(devices=devices))
    r.run(20.0)
    runs.append((np.asarray(r.mon.V), np.asarray(r.mon.spike), np.asarray(g.V)))
out["population"] = [np.array_equal(x, y) for x, y in zip(runs[0], runs[1])]
out["spikes"] = int(runs[0][1].sum())
import os, tempfile  # the monitors streamed to a file chunk by chunk from the four devices
g = bp.dyn.HH(1003)
g.X = X0
r = bp.dyn.DSRunner(g, monitors={"V": [0, 500, 1002], "spike": None},
                    inputs=("input", np.linspace(0, 20, 1003)), dt=0.01, chunk_steps=1000,
                    execution=sim.Execution(devices="all"))
path = os.path.join(tempfile.mkdtemp(), "t.npz")
r.run(20.0, out=path)
with np.load(path) as z:
    out["streamed"] = [np.array_equal(z["V"], runs[0][0]), np.array_equal(z["spike"], runs[0][1])]
os.remove(path)
print(json.dumps(out))
"""


def test_sharded_sweeps_equal_one_device():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               PYTHONPATH=str(Path(hh.__file__).parent.parent))
    run = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["hh"] == [True, True, True]
    assert out["ml"] == [True, True, 3]  # three equilibria somewhere: the multi-root path
    assert out["sweep"] == [True, True]
    assert out["population"] == [True, True, True] and out["spikes"] > 100
    assert out["streamed"] == [True, True]


def test_bad_devices_is_one_clear_error():
    with pytest.raises(ValueError, match="Execution.devices must be"):
        hh.simulate.Execution(devices="gpu")
    with pytest.raises(ValueError, match="devices must be"):
        hh.find_equilibria(hh.hodgkin_huxley(), I=[1.0, 2.0], devices="gpu")
    with pytest.raises(ValueError, match="devices must be between 1 and"):
        hh.find_equilibria(hh.hodgkin_huxley(), I=[1.0, 2.0], devices=10_000)
