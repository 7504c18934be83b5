"""BrainPy-compatible names for the simulator: ``import hhanalysis.brainpy as bp``.

With this import the examples of BrainPy's ``HH`` page run unchanged, e.g.

```python
import hhanalysis.brainpy as bp

group = bp.dyn.HH(2)
runner = bp.dyn.DSRunner(group, monitors=['V'], inputs=('input', 10.))
runner.run(200.)
bp.visualize.line_plot(runner.mon.ts, runner.mon.V, show=True)
```

Namespaces: ``dyn`` (``HH``, ``NeuronGroup``, ``DSRunner``), ``inputs`` (input currents),
``init`` (initializers), ``math`` (``random``, ``stack``, ...) and ``visualize`` (``line_plot``,
``get_figure``); ``HH``, ``NeuronGroup`` and ``DSRunner`` are also available directly. They are
the objects of the simulator :mod:`hhanalysis.simulate`; the analysis API is the top level
:mod:`hhanalysis`.
"""

from ..simulate import inputs
from ..simulate.neurons import HH, NeuronGroup
from ..simulate.runner import DSRunner
from . import dyn, init, math, visualize

__all__ = ["HH", "DSRunner", "NeuronGroup", "dyn", "inputs", "init", "math", "visualize"]
