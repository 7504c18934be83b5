"""Monitors streamed to a file as the run goes (issue #16 item 2, issue #14 item 4): the files
hold exactly the in-memory monitors, a failed run leaves no file, memory is bounded by one chunk
(a run refused in memory runs streamed), and the CLI streams its traces by extension."""

import csv
import shutil
import sys
import tracemalloc
import zipfile
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

import hhanalysis.simulate.runner as runner_module
from hhanalysis import cli
from hhanalysis.cli import main
from hhanalysis.simulate import HH, DSRunner, MonitorFile, StreamedMonitors, read_monitors
from hhanalysis.simulate.resources import ResourceError
from hhanalysis.simulate.spikes import spike_counts, spike_times
from hhanalysis.simulate.streaming import FORMATS, iter_monitors

MONITORS = {"V": None, "m": [4, 0, 3], "spike": None, "input": [1]}


def small_runner(method="exp_auto", keep_size=True):
    """A 2x3 group (kept in its shape) with full and indexed monitors, every 3rd step, in
    chunks of 7 steps (so recorded rows straddle the chunk boundaries)."""
    group = HH((2, 3), keep_size=keep_size, method=method,
               V_initializer=np.linspace(-70.0, -55.0, 6).reshape(2, 3))
    return DSRunner(group, monitors=MONITORS, dt=0.01, chunk_steps=7, monitor_every=3,
                    inputs=[("input", 10.0), ("input", np.linspace(0, 5, 100), "iter")])


def csv_columns(path):
    with open(path, newline="") as fh:
        header = next(csv.reader(fh))
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    return {name: table[:, i] for i, name in enumerate(header)}


def parquet_columns(path):
    """Plain pyarrow: ``ts`` a column, each monitor a column of fixed-size lists."""
    import json

    pq = pytest.importorskip("pyarrow.parquet")
    table = pq.read_table(path)
    cols = {name: np.array(table.column(name).to_pylist()) for name in table.column_names}
    return cols, json.loads(table.schema.metadata[b"hhanalysis"])


def per_neuron_columns(cols, name, index):
    return np.column_stack([cols[f"{name}[{k}]"] for k in index])


@pytest.mark.parametrize("ext", FORMATS)
def test_streamed_file_equals_the_in_memory_monitors(ext, tmp_path):
    if ext == ".parquet":
        pytest.importorskip("pyarrow")
    memory, streamed = small_runner(), small_runner()
    ref = memory.run(1.0)  # 100 steps -> 33 rows
    path = tmp_path / f"traces{ext}"
    mon = streamed.run(1.0, out=path)
    assert isinstance(mon, StreamedMonitors) and mon.path == path
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary left
    assert ref.V.shape == (33, 2, 3) and ref.m.shape == (33, 3) and ref.ts.shape == (33,)
    if ext == ".npz":  # plain numpy reads it, bit for bit
        assert zipfile.ZipFile(path).testzip() is None
        with np.load(path) as z:
            got = {k: z[k] for k in z.files}
        assert got["m.index"].tolist() == [4, 0, 3] and got["input.index"].tolist() == [1]
    elif ext == ".csv":
        cols = csv_columns(path)
        got = {"ts": cols["ts"], "V": per_neuron_columns(cols, "V", range(6)).reshape(-1, 2, 3),
               "m": per_neuron_columns(cols, "m", [4, 0, 3]),
               "spike": per_neuron_columns(cols, "spike", range(6)).reshape(-1, 2, 3),
               "input": per_neuron_columns(cols, "input", [1])}
    else:
        got, meta = parquet_columns(path)
        assert meta["index"] == {"m": [4, 0, 3], "input": [1]}
        assert meta["shape"]["V"] == [2, 3] and got["spike"].dtype == bool
        got["V"], got["spike"] = got["V"].reshape(-1, 2, 3), got["spike"].reshape(-1, 2, 3)
    for name in ("ts", "V", "m", "spike", "input"):
        # CSV prints 17 significant digits, which read back to the same float64
        np.testing.assert_array_equal(got[name], ref[name], err_msg=name)
        np.testing.assert_array_equal(mon[name], ref[name], err_msg=name)  # runner.mon
        assert mon[name].dtype == ref[name].dtype and mon[name].shape == ref[name].shape
    assert mon.spike.dtype == bool
    # the group's state and time continue the same way after a streamed run
    np.testing.assert_array_equal(memory.run(1.0).V, streamed.run(1.0).V)
    assert memory.t == streamed.t


@pytest.mark.parametrize("ext", FORMATS)
def test_zero_steps_and_float32_keep_shapes_and_bits(ext, tmp_path):
    if ext == ".parquet":
        pytest.importorskip("pyarrow")
    runner = DSRunner(HH(3), monitors=["V", "spike"], dt=0.01)
    mon = runner.run(0.0, out=tmp_path / f"zero{ext}")
    assert mon.V.shape == (0, 3) and mon.ts.shape == (0,) and mon.spike.dtype == bool

    def f32():  # float32 values are written with 9 digits in CSV, which read back exactly
        return DSRunner(HH(3, dtype=np.float32, V_initializer=-60.0), monitors=["V"],
                        inputs=("input", 10.0), dt=0.01)

    memory, streamed = f32(), f32()
    streamed.run(0.5, out=tmp_path / f"f32{ext}")
    assert streamed.mon.V.dtype == np.float32
    np.testing.assert_array_equal(streamed.mon.V, memory.run(0.5).V)


def test_streamed_npz_is_memory_mapped_and_readable_in_blocks(tmp_path):
    runner = small_runner(keep_size=False)
    runner.run(1.0, out=tmp_path / "t.npz")
    arrays = read_monitors(tmp_path / "t.npz")
    assert isinstance(arrays["V"], np.memmap) and arrays["V"].shape == (33, 6)
    blocks = list(iter_monitors(tmp_path / "t.npz", rows=5))
    assert [len(b["ts"]) for b in blocks] == [5] * 6 + [3] and "m.index" not in blocks[0]
    for name in ("ts", "V", "m", "spike"):
        np.testing.assert_array_equal(np.concatenate([b[name] for b in blocks]), arrays[name])
    # an NPZ written by numpy.savez reads the same way
    np.savez(tmp_path / "n.npz", ts=np.arange(4.0), V=np.ones((4, 2)))
    assert read_monitors(tmp_path / "n.npz")["V"].tolist() == [[1.0, 1.0]] * 4


def test_monitor_file_renames_members_and_columns(tmp_path):
    runner = DSRunner(HH(2), monitors=["V"], dt=0.01)
    names = {"ts": "t_ms", "V": "V_mV"}
    runner.run(0.1, out=MonitorFile(tmp_path / "t.csv", names))
    assert (tmp_path / "t.csv").read_text().splitlines()[0] == "t_ms,V_mV[0],V_mV[1]"
    assert runner.mon.V.shape == (10, 2) and runner.mon.ts[-1] == pytest.approx(0.1)


def _fail_on_chunk(monkeypatch, k, error):
    real, calls = runner_module.run_concurrently, []

    def failing(fn, args):
        calls.append(1)
        if len(calls) == k:
            raise error
        return real(fn, args)

    monkeypatch.setattr(runner_module, "run_concurrently", failing)
    return calls


@pytest.mark.parametrize("ext", FORMATS)
@pytest.mark.parametrize("error", [RuntimeError("device lost"), KeyboardInterrupt()])
def test_a_run_failing_midway_leaves_the_file_as_it_was(ext, error, tmp_path, monkeypatch):
    if ext == ".parquet":
        pytest.importorskip("pyarrow")
    target = tmp_path / f"t{ext}"
    target.write_text("previous")
    runner = small_runner()
    calls = _fail_on_chunk(monkeypatch, 5, error)  # after 4 of the 15 chunks were written
    with pytest.raises(type(error)):
        runner.run(1.0, out=target)
    assert len(calls) == 5
    assert target.read_text() == "previous" and [p.name for p in tmp_path.iterdir()] == [
        target.name]
    assert runner.t == 0.0  # the state did not advance either
    monkeypatch.undo()
    (tmp_path / "fresh").mkdir()
    # a run that blows up (forward Euler at dt = 0.1 ms): no file at all
    unstable = DSRunner(HH(1, method="euler", V_initializer=-65.0), monitors=["V"],
                        inputs=("input", 10.0), dt=0.1, chunk_steps=20)
    with pytest.raises(FloatingPointError, match="reduce dt"):
        unstable.run(20.0, out=tmp_path / "fresh" / f"t{ext}")
    assert list((tmp_path / "fresh").iterdir()) == []


def test_streaming_runs_where_memory_would_not(tmp_path, monkeypatch):
    """A run whose monitors exceed the budget is refused in memory (the message names
    streaming) and runs streamed; the host allocations of a streamed run stay near one chunk
    (tracemalloc sees numpy's allocations), those of an in-memory run hold all rows."""
    def runner():
        return DSRunner(HH(200, V_initializer=-65.0), monitors=["V"],
                        inputs=("input", 10.0), dt=0.01, chunk_steps=250)

    monitor_bytes = 4000 * 200 * 8  # 40 ms: 4000 rows of 200 float64, 6.4 MB
    runner().run(2.5, out=tmp_path / "warm.npz")  # compile the 250-step chunk once
    monkeypatch.setenv("HHANALYSIS_MEMORY_LIMIT", str(monitor_bytes // 2))
    with pytest.raises(ResourceError, match=r"out='traces\.npz'"):
        runner().run(40.0)
    r = runner()
    tracemalloc.start()
    try:
        r.run(40.0, out=tmp_path / "t.npz")
        streamed_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (tmp_path / "t.npz").stat().st_size > monitor_bytes
    assert streamed_peak < monitor_bytes / 4, streamed_peak
    monkeypatch.delenv("HHANALYSIS_MEMORY_LIMIT")
    r = runner()
    tracemalloc.start()
    try:
        r.run(40.0)
        memory_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert memory_peak > monitor_bytes  # the check above can see the rows held in memory
    np.testing.assert_array_equal(r.mon.V, read_monitors(tmp_path / "t.npz")["V"])


def test_bad_out_is_one_line(tmp_path, monkeypatch):
    runner = DSRunner(HH(1), monitors=["V"])
    (tmp_path / "d.npz").mkdir()
    for out, needle in [(tmp_path / "t.txt", "out .*one of .npz, .csv, .parquet"),
                        (3, "out must be a file path"), (tmp_path / "d.npz", "is a directory")]:
        with pytest.raises(ValueError, match=needle):
            runner.run(1.0, out=out)
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if pyarrow were not installed
    with pytest.raises(ImportError, match=r"hhanalysis\[parquet\]"):
        runner.run(1.0, out=tmp_path / "t.parquet")
    assert [p.name for p in tmp_path.iterdir()] == ["d.npz"] and runner.t == 0.0


def test_spike_counts_in_blocks_are_spike_times_counts():
    """The two-pass block counter (the CLI's, on files read back) against spike_times on the
    whole traces, for both rules, every block length, blocks split inside spikes."""
    rng = np.random.default_rng(1)
    for _ in range(40):
        n, N = rng.integers(2, 80), rng.integers(1, 5)
        V = np.cumsum(rng.normal(0, 9, (n, N)), axis=0) + rng.normal(-60, 5)
        ts = 0.1 * np.arange(n)
        for rule in ("auto", -55.0):
            ref = [len(t) for t in spike_times(ts, V, rule)]
            for b in (1, 2, 5, 64):
                got = spike_counts(lambda: (V[i:i + b] for i in range(0, n, b)), rule)
                assert got.tolist() == ref, (rule, b)
    with pytest.raises(ValueError, match="V_th"):
        spike_counts(lambda: iter([]), "high")


# -- CLI -------------------------------------------------------------------------------------
SIM = ["simulate", "--duration", "20", "--input", "50", "--size", "3", "--no-progress"]


def test_cli_streams_traces_by_extension(tmp_path, capsys):
    data = {}
    for ext in FORMATS:
        if ext == ".parquet" and not _has_pyarrow():
            continue
        out = tmp_path / f"t{ext}"
        assert main([*SIM, "--out", str(out)]) == 0
        line = capsys.readouterr().out
        assert line.count("\n") == 1 and f"wrote {tmp_path / 't.png'} and {out}" in line
        if ext == ".npz":
            with np.load(out) as z:
                data[ext] = z["t_ms"], z["V_mV"]
            counts = [len(t) for t in spike_times(*data[ext], "auto")]
            assert f"spikes per neuron: {counts}" in line  # the counts of the whole traces
        elif ext == ".csv":
            cols = csv_columns(out)
            data[ext] = cols["t_ms"], per_neuron_columns(cols, "V_mV", range(3))
        else:
            cols = parquet_columns(out)[0]
            data[ext] = cols["t_ms"], cols["V_mV"]
    assert data[".npz"][1].shape == (2000, 3)
    for ext in data:
        for a, b in zip(data[ext], data[".npz"]):
            np.testing.assert_array_equal(a, b)
    # --out a figure: the traces go to --data, here the first two neurons only
    assert main([*SIM, "--record", "2", "--out", str(tmp_path / "f.svg"),
                 "--data", str(tmp_path / "f.npz")]) == 0
    with np.load(tmp_path / "f.npz") as z:
        np.testing.assert_array_equal(z["V_mV"], data[".npz"][1][:, :2])
        assert z["V_mV.index"].tolist() == [0, 1]
    assert (tmp_path / "f.svg").read_text().startswith("<?xml")


def _has_pyarrow():
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def test_cli_streams_a_long_run_drawn_as_an_envelope(tmp_path, capsys):
    """More rows than are drawn: the figure shows each bin's min and max, so the spike peaks
    stay in the figure (the axis limits cover the whole trace)."""
    out = tmp_path / "long.npz"
    assert main(["simulate", "--duration", "100", "--input", "50", "--size", "1",
                 "--no-progress", "--out", str(out)]) == 0
    capsys.readouterr()
    with np.load(out) as z:
        V = z["V_mV"][:, 0]
    ts, env = cli._envelope(np.arange(len(V)) * 0.01, V[:, None], 3)
    assert env.max() == V.max() and env.min() == V.min() and len(ts) == 2 * -(-len(V) // 3)


@pytest.mark.parametrize("argv, needles", [
    (["--out", "t.txt"], ["--out 't.txt'", ".png, .svg, .pdf, .csv, .npz, .parquet"]),
    (["--out", "t.npz", "--data", "u.csv"], ["--data", "--out 't.npz' already names"]),
    (["--data", "t.json"], ["--data", ".csv, .npz, .parquet"]),
])
def test_cli_bad_traces_file_is_one_line(argv, needles, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([*SIM, *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hhanalysis: error:"), err
    assert all(n in err for n in needles), err
    assert list(tmp_path.iterdir()) == []


def test_cli_parquet_without_pyarrow_names_the_extra(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    assert main([*SIM, "--out", str(tmp_path / "t.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "hhanalysis[parquet]" in err and "--data" in err
    assert list(tmp_path.iterdir()) == []


def test_cli_disk_guard_names_binary_formats(tmp_path, capsys, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 1000, 1000))
    assert main([*SIM, "--out", str(tmp_path / "t.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "are free there" in err
    assert "--data FILE.npz or FILE.parquet" in err and "--monitor-every K" in err
    assert list(tmp_path.iterdir()) == []


def test_cli_failed_run_leaves_no_traces(tmp_path, capsys):
    assert main(["simulate", "--method", "euler", "--dt", "0.1", "--duration", "20",
                 "--no-progress", "--out", str(tmp_path / "t.npz")]) == 1
    assert "reduce dt" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


def test_cli_sigterm_removes_the_temporary_files(tmp_path, monkeypatch):
    """kill (SIGTERM) unwinds like Ctrl-C: exit status 143, no file and no temporary left
    (the signal arrives when the traces file is open, before the first chunk runs)."""
    import os
    import signal

    real = runner_module.run_concurrently
    calls = []

    def terminated_midway(fn, args):
        calls.append(sorted(p.name for p in tmp_path.iterdir()))
        os.kill(os.getpid(), signal.SIGTERM)
        return real(fn, args)

    monkeypatch.setattr(runner_module, "run_concurrently", terminated_midway)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as stop:
        main([*SIM, "--out", str(tmp_path / "t.csv")])
    assert stop.value.code == 143 and len(calls) == 1 and list(tmp_path.iterdir()) == []
    assert len(calls[0]) == 3  # the CSV's temporary, the scratch NPZ and its temporary
    assert signal.getsignal(signal.SIGTERM) == before  # the handler was the command's only


def test_convert_monitors_writes_the_npz_rows(tmp_path):
    from hhanalysis.simulate.streaming import convert_monitors

    runner = small_runner()
    runner.run(1.0, out=tmp_path / "t.npz")
    ref = read_monitors(tmp_path / "t.npz")
    exts = [".csv"] + ([".parquet"] if _has_pyarrow() else [])
    for ext in exts:
        convert_monitors(tmp_path / "t.npz", tmp_path / f"u{ext}", rows=4)
        got = read_monitors(tmp_path / f"u{ext}")
        assert sorted(got) == ["V", "input", "m", "spike", "ts"]
        np.testing.assert_array_equal(got["ts"], ref["ts"])
        for name in ("V", "m", "input"):
            np.testing.assert_array_equal(got[name], ref[name].reshape(33, -1))
        np.testing.assert_array_equal(got["spike"] != 0, ref["spike"].reshape(33, -1))
    header = (tmp_path / "u.csv").read_text().splitlines()[0].split(",")
    assert header[7:10] == ["m[4]", "m[0]", "m[3]"] and header[-1] == "input[1]"
    with pytest.raises(ValueError, match="src .*reads .npz"):
        convert_monitors(tmp_path / "u.csv", tmp_path / "v.csv")


def test_cli_formats_are_the_streaming_formats():
    assert set(cli._TRACES) == set(FORMATS) and Path("x.npz").suffix in cli._TRACES
