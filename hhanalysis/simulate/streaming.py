"""Monitors streamed to a file while a run goes, one compiled chunk at a time.

``DSRunner(...).run(duration, out="traces.npz")`` writes the time stamps and every monitor to
the file as the chunks come out of the compiled scan, so the host holds one chunk of monitors at
a time, whatever the duration. The format follows the extension:

* ``.npz`` — an uncompressed ZIP64 archive of ``.npy`` members, as :func:`numpy.savez` writes it
  and :func:`numpy.load` reads it: ``ts`` ``(rows,)`` and one ``(rows,) + shape`` member per
  monitor (``shape`` is the group's shape for a full monitor, ``(k,)`` for ``k`` indexed
  neurons), plus ``<name>.index`` (the neuron indices) for an indexed monitor. The final shape
  of each member is known before the run, so its ``.npy`` header is written first and the rows
  are appended in place.
* ``.csv`` — a header row, then one row per recorded step: ``ts`` and one column per monitored
  neuron, named ``V[17]`` (flat neuron index); floats printed with 17 significant digits (9 for
  float32), which read back to the same bits; spikes as 0/1.
* ``.parquet`` — row groups of at most 16 MiB, written as the chunks come
  (:class:`pyarrow.parquet.ParquetWriter`; needs the
  ``parquet`` extra: ``pip install 'hhanalysis[parquet]'``): a column ``ts`` and one column per
  monitor whose cells are fixed-size lists, the row's values of the monitored neurons
  (float64/float32, spikes boolean); the neuron indices of indexed monitors and the shape of a
  row are in the schema's metadata (:data:`PARQUET_META`). (Not one column per neuron as in
  the CSV: a Parquet writer keeps metadata per column and row group, 2.4 GB for 100 000
  neurons in 12 row groups.) ``pyarrow.parquet.read_table(path).column("V")`` gives the rows;
  ``pandas.read_parquet`` one array per cell.

The file is written to a temporary file in the target's directory and renamed onto the target
when the run has finished, so a run that fails or is interrupted leaves no partial file (and
an existing file of that name untouched).

:func:`read_monitors` reads such a file back (NPZ members memory-mapped, so reading one is free
until the rows are touched), :func:`iter_monitors` in blocks of rows; :func:`convert_monitors`
writes an NPZ file's rows to CSV or Parquet block by block. Reading is fast for NPZ; a CSV file
is parsed at some 20 MB/s and a Parquet file with many thousands of columns pays per column and
row group, so to analyse a long run of a large group, stream to NPZ (and convert if needed).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["FORMATS", "MonitorFile", "read_monitors", "iter_monitors", "convert_monitors",
           "monitor_format"]

#: File types a run can stream its monitors to.
FORMATS = (".npz", ".csv", ".parquet")

PARQUET_HINT = "pip install 'hhanalysis[parquet]' (or pip install pyarrow)"
#: Largest row group of a streamed Parquet file (bytes of values): pyarrow needs some six times
#: a row group's size to read one back.
PARQUET_ROW_GROUP_BYTES = 16 * 2**20
#: Key of a streamed Parquet file's schema metadata: JSON ``{"index": {name: neuron
#: indices} (indexed monitors), "shape": {name: shape of a row}}``.
PARQUET_META = "hhanalysis"


def monitor_format(path, argument: str = "out") -> str:
    """The format (``.npz``, ``.csv`` or ``.parquet``) of ``path``; ``ValueError`` naming
    ``argument`` for another extension, ``ImportError`` for ``.parquet`` without pyarrow."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"{argument} {str(path)!r}: the file type must be one of "
                         f"{', '.join(FORMATS)}")
    if suffix == ".parquet":
        _pyarrow()
    return suffix


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ImportError(f"writing .parquet needs pyarrow: {PARQUET_HINT}") from None
    return pyarrow


@dataclass(frozen=True)
class MonitorFile:
    """Where a run streams its monitors (``run(duration, out=MonitorFile(...))``; a plain path
    is ``MonitorFile(path)``).

    Attributes:
        path: the file; its extension chooses the format (:data:`FORMATS`).
        names: new names of the members / column prefixes, e.g. ``{"ts": "t_ms", "V": "V_mV"}``
            (default: the monitor names and ``ts``).
    """

    path: str | os.PathLike
    names: dict = field(default_factory=dict)

    def name(self, key: str) -> str:
        return self.names.get(key, key)


@dataclass(frozen=True)
class _Member:
    """One streamed array: ``rows`` rows of ``shape`` values of ``dtype``; ``index`` the neuron
    index of each of the (flattened) values, for the column names."""

    name: str
    shape: tuple
    dtype: np.dtype
    index: np.ndarray | None


def _columns(m: _Member) -> list[str]:
    if m.index is None:
        return [m.name]
    return [f"{m.name}[{int(k)}]" for k in m.index]


# -- writers ---------------------------------------------------------------------------------
class _NpzWriter:
    """An uncompressed ZIP64 archive of ``.npy`` members whose sizes are known in advance: each
    member's local header and ``.npy`` header are laid out first, the rows are written at their
    offsets as they come, and the CRC-32 of each member, known only at the end, is patched into
    its local header and written into the central directory by :meth:`close`."""

    def __init__(self, path, members: list[_Member], rows: int, extra: dict):
        self.fh = open(path, "wb")
        self.entries = []  # [name, header offset, data offset, size, crc, written]
        offset = 0
        arrays = [(m.name, (rows,) + m.shape, m.dtype, None) for m in members]
        arrays += [(k, v.shape, v.dtype, v) for k, v in extra.items()]
        self.stamp = _dos_time()
        for name, shape, dtype, value in arrays:
            npy = io.BytesIO()
            np.lib.format.write_array_header_1_0(npy, {
                "descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                "fortran_order": False, "shape": tuple(int(s) for s in shape)})
            head = npy.getvalue()
            size = len(head) + int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
            fname = (name + ".npy").encode()
            local = self._local_header(fname, size, 0)
            self.fh.write(local)
            self.fh.write(head)
            entry = [fname, offset, offset + len(local), size, zlib.crc32(head), len(head)]
            self.entries.append(entry)
            if value is not None:
                data = _bytes(value)
                self.fh.write(data)
                entry[4] = zlib.crc32(data, entry[4])
                entry[5] += len(data)
            else:
                self.fh.seek(size - len(head), os.SEEK_CUR)
            offset += len(local) + size
        self.end = offset
        self.members = {m.name: e for m, e in zip(members, self.entries)}

    def _local_header(self, fname: bytes, size: int, crc: int) -> bytes:
        extra = struct.pack("<HHQQ", 1, 16, size, size)
        return struct.pack("<4s2B4HL2L2H", b"PK\003\004", 45, 0, 0, 0, *self.stamp, crc,
                           0xFFFFFFFF, 0xFFFFFFFF, len(fname), len(extra)) + fname + extra

    def write(self, block: dict):
        for name, arr in block.items():
            e = self.members[name]
            data = _bytes(arr)
            self.fh.seek(e[2] + e[5])
            self.fh.write(data)
            e[4] = zlib.crc32(data, e[4])
            e[5] += len(data)

    def close(self):
        central = b""
        for fname, off, _, size, crc, written in self.entries:
            if written != size:
                raise RuntimeError(f"streamed {written} of the {size} bytes of "
                                   f"{fname.decode()}")
            self.fh.seek(off)
            self.fh.write(self._local_header(fname, size, crc))
            extra = struct.pack("<HHQQQ", 1, 24, size, size, off)
            central += struct.pack(
                "<4s4B4HL2L5H2L", b"PK\001\002", 45, 3, 45, 0, 0, 0, *self.stamp, crc,
                0xFFFFFFFF, 0xFFFFFFFF, len(fname), len(extra), 0, 0, 0, 0o100644 << 16,
                0xFFFFFFFF) + fname + extra
        n = len(self.entries)
        self.fh.seek(self.end)
        self.fh.write(central)
        end64 = self.end + len(central)
        self.fh.write(struct.pack("<4sQ2H2L4Q", b"PK\006\006", 44, 45, 45, 0, 0, n, n,
                                  len(central), self.end))
        self.fh.write(struct.pack("<4sLQL", b"PK\006\007", 0, end64, 1))
        self.fh.write(struct.pack("<4s4H2LH", b"PK\005\006", 0, 0, min(n, 0xFFFF),
                                  min(n, 0xFFFF), 0xFFFFFFFF, 0xFFFFFFFF, 0))
        self.fh.close()

    def abort(self):
        self.fh.close()


def _bytes(arr) -> memoryview:
    """The bytes of ``arr`` in C order, without a copy when it is contiguous."""
    return memoryview(np.ascontiguousarray(arr).reshape(-1).view(np.uint8))


def _dos_time():
    t = time.localtime()
    return ((t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2),
            ((t.tm_year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday)


def _flat(arr, rows):
    return np.asarray(arr).reshape(rows, -1)


class _CsvWriter:
    """Rows appended to a text file; floats with enough digits to read back the same bits."""

    def __init__(self, path, members: list[_Member], rows: int, extra: dict):
        self.fh = open(path, "w", newline="")
        self.fh.write(",".join(c for m in members for c in _columns(m)) + "\n")
        self.members = members
        fmts = []
        for m in members:
            width = 1 if m.index is None else len(m.index)
            f = ("%d" if m.dtype == np.bool_
                 else "%.9g" if m.dtype == np.float32 else "%.17g")
            fmts += [f] * width
        self.row = ",".join(fmts) + "\n"

    def write(self, block: dict):
        rows = len(block[self.members[0].name])
        table = np.hstack([_flat(block[m.name], rows).astype(np.float64)
                           for m in self.members])
        step = max(1, 2**20 // max(table.shape[1], 1))  # ~8 MiB of text per write
        for lo in range(0, rows, step):
            self.fh.write("".join(self.row % tuple(r) for r in table[lo:lo + step].tolist()))

    def close(self):
        self.fh.close()

    def abort(self):
        self.fh.close()


class _ParquetWriter:
    """Row groups of at most :data:`PARQUET_ROW_GROUP_BYTES`; ``ts`` a column, each monitor
    one column of fixed-size lists (a row's values of all its neurons), the neuron indices in
    the schema's metadata.

    (One column per neuron, as in the CSV, does not scale: a writer keeps ~2 KB of metadata per
    column and row group until it closes, 2.4 GB for 100 000 neurons in 12 row groups.)"""

    def __init__(self, path, members: list[_Member], rows: int, extra: dict):
        self.pa = _pyarrow()
        import pyarrow.parquet as pq

        types = {np.dtype(np.bool_): self.pa.bool_(), np.dtype(np.float32): self.pa.float32(),
                 np.dtype(np.float64): self.pa.float64()}
        fields = [(m.name, types[np.dtype(m.dtype)] if m.index is None
                   else self.pa.list_(types[np.dtype(m.dtype)], len(m.index)))
                  for m in members]
        meta = {"index": {m.name: m.index.tolist() for m in members if m.index is not None
                          and not np.array_equal(m.index, np.arange(len(m.index)))},
                "shape": {m.name: list(m.shape) for m in members}}
        self.schema = self.pa.schema(fields, metadata={PARQUET_META: json.dumps(meta)})
        self.members = members
        self.writer = pq.ParquetWriter(path, self.schema, use_dictionary=False,
                                       write_statistics=False)

    def write(self, block: dict):
        rows = len(block[self.members[0].name])
        cols = []
        for m in self.members:
            flat = np.ascontiguousarray(_flat(block[m.name], rows))
            values = self.pa.array(flat.reshape(-1))
            cols.append(values if m.index is None else
                        self.pa.FixedSizeListArray.from_arrays(values, len(m.index)))
        width = sum(c.nbytes for c in cols) // max(rows, 1)
        self.writer.write_table(self.pa.Table.from_arrays(cols, schema=self.schema),
                                row_group_size=max(1, PARQUET_ROW_GROUP_BYTES // max(width, 1)))

    def close(self):
        self.writer.close()

    def abort(self):
        self.writer.close()


_WRITERS = {".npz": _NpzWriter, ".csv": _CsvWriter, ".parquet": _ParquetWriter}


def open_writer(path, suffix: str, members: list[_Member], rows: int, extra: dict):
    """A writer of ``rows`` rows of ``members`` (the first is the time stamps) to ``path`` in the
    format ``suffix``; ``extra`` holds whole arrays stored once (NPZ only: the index arrays)."""
    return _WRITERS[suffix](path, members, rows, extra)


# -- readers ---------------------------------------------------------------------------------
def _npz_members(path):
    """``{name: (offset, shape, dtype)}`` of the uncompressed ``.npy`` members of an NPZ."""
    import zipfile

    out = {}
    with zipfile.ZipFile(path) as z, open(path, "rb") as fh:
        for info in z.infolist():
            if not info.filename.endswith(".npy"):
                continue
            if info.compress_type != zipfile.ZIP_STORED:
                raise ValueError(f"{path}: member {info.filename} is compressed; read it with "
                                 "numpy.load")
            fh.seek(info.header_offset + 26)
            n, m = struct.unpack("<2H", fh.read(4))
            fh.seek(info.header_offset + 30 + n + m)
            version = np.lib.format.read_magic(fh)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f"{path}: member {info.filename} has .npy format {version}")
            read = getattr(np.lib.format, f"read_array_header_{version[0]}_0")
            shape, fortran, dtype = read(fh)
            if fortran or dtype.hasobject:
                raise ValueError(f"{path}: member {info.filename} is not a plain C array")
            out[info.filename[:-4]] = (fh.tell(), shape, dtype)
    return out


def read_monitors(path) -> dict[str, np.ndarray]:
    """The arrays of a streamed monitor file: ``{name: array}``, the per-neuron columns of a
    CSV or Parquet file (``V[0]``, ``V[1]``, ...) joined into one ``(rows, k)`` array per
    name. NPZ members are read-only memory maps of the file (no copy); CSV and Parquet files
    are read whole."""
    suffix = monitor_format(path, "path")
    if suffix == ".npz":
        return {name: np.memmap(path, dtype, "r", offset, shape) if np.prod(shape) else
                np.zeros(shape, dtype) for name, (offset, shape, dtype)
                in _npz_members(path).items()}
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return _parquet_arrays(pq.read_table(path))
    blocks = list(iter_monitors(path))
    if not blocks:  # a header only: no rows
        with open(path, newline="") as fh:
            header = fh.readline().rstrip("\r\n").split(",")
        return _grouped(_group(header), np.zeros((0, len(header))))
    return {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}


def iter_monitors(path, rows: int = 4096):
    """The arrays of a streamed monitor file in blocks of at most ``rows`` rows: an iterator of
    ``{name: array}`` (NPZ: the members with a row per time stamp; CSV/Parquet: the columns
    grouped by name as in :func:`read_monitors`; Parquet: one row group at a time, whatever
    ``rows``). Memory: one block."""
    suffix = monitor_format(path, "path")
    if suffix == ".npz":
        timed = {k: v for k, v in _npz_members(path).items()
                 if v[1] and not k.endswith(".index")}  # arrays with a row per time stamp
        n = min((shape[0] for _, shape, _ in timed.values()), default=0)
        with open(path, "rb") as fh:
            for lo in range(0, n, rows):
                hi = min(n, lo + rows)
                block = {}
                for name, (offset, shape, dtype) in timed.items():
                    width = int(np.prod(shape[1:], dtype=np.int64))
                    fh.seek(offset + lo * width * dtype.itemsize)
                    block[name] = np.fromfile(fh, dtype, (hi - lo) * width).reshape(
                        (hi - lo,) + tuple(shape[1:]))
                yield block
        return
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        f = pq.ParquetFile(path)
        for i in range(f.num_row_groups):
            yield _parquet_arrays(f.read_row_group(i))
        return
    with open(path, newline="") as fh:
        header = fh.readline().rstrip("\r\n").split(",")
        groups = _group(header)
        import itertools

        while True:
            lines = list(itertools.islice(fh, rows))
            if not lines:
                return
            table = np.loadtxt(lines, delimiter=",", ndmin=2, dtype=np.float64)
            yield _grouped(groups, table)


def convert_monitors(src, dst, rows: int | None = None) -> Path:
    """Write the monitors of the NPZ file ``src`` to ``dst`` (``.csv`` or ``.parquet``, or
    ``.npz``), in blocks of ``rows`` rows (default: about 64 MiB; a Parquet row group each),
    through a temporary file renamed at the end; the columns are those a streamed run writes
    (``<name>[k]`` with the neuron indices of ``<name>.index`` where ``src`` has them)."""
    if monitor_format(src, "src") != ".npz":
        raise ValueError(f"src {str(src)!r}: convert_monitors reads .npz files")
    suffix = monitor_format(dst, "dst")
    found = _npz_members(src)
    timed = {k: v for k, v in found.items() if v[1] and not k.endswith(".index")}
    n = min((shape[0] for _, shape, _ in timed.values()), default=0)
    index = {k[:-len(".index")]: np.fromfile(src, v[2], int(np.prod(v[1])), offset=v[0])
             for k, v in found.items() if k.endswith(".index")}
    members = [_Member(k, tuple(shape[1:]), dtype,
                       None if len(shape) == 1 else index.get(
                           k, np.arange(int(np.prod(shape[1:], dtype=np.int64)))))
               for k, (_, shape, dtype) in timed.items()]
    width = sum(int(np.prod(m.shape, dtype=np.int64)) * m.dtype.itemsize for m in members)
    rows = rows or max(1, 64 * 2**20 // max(width, 1))
    with stream_writer(dst, suffix, members, n, {f"{k}.index": v for k, v in index.items()}) \
            as writer:
        for block in iter_monitors(src, rows):
            writer.write(block)
    return Path(dst)


def _parquet_arrays(table) -> dict:
    """``{name: (rows,) or (rows, k) array}`` of a table or record batch of plain and
    fixed-size-list columns."""
    out = {}
    for name, col in zip(table.column_names, table.columns):
        width = getattr(col.type, "list_size", None)
        if width is None:
            out[name] = col.to_numpy()
        else:
            if hasattr(col, "combine_chunks"):  # a table's column; a batch's is one array
                col = col.combine_chunks()
            values = col.flatten().to_numpy(zero_copy_only=False)
            out[name] = values.reshape(-1, width)
    return out


def _group(columns: list[str]) -> dict[str, slice | int]:
    """Column positions of each name: ``ts`` → its position, ``V[0]..V[k]`` → a slice."""
    groups: dict = {}
    for i, c in enumerate(columns):
        name = c.split("[", 1)[0]
        if name in groups and not isinstance(groups[name], slice):
            raise ValueError(f"column {c!r} repeats {name!r}")
        lo = groups[name].start if name in groups else i
        groups[name] = slice(lo, i + 1) if "[" in c else i
    return groups


def _grouped(groups, table):
    return {name: table[:, pos] for name, pos in groups.items()}


@contextlib.contextmanager
def stream_writer(path, suffix: str, members: list[_Member], rows: int, extra: dict):
    """:func:`open_writer` on a temporary file beside ``path``, renamed onto ``path`` when the
    block exits normally; on any exception (``KeyboardInterrupt`` included) the temporary file
    is removed and ``path`` is left as it was."""
    from .._files import atomic_path

    with atomic_path(path) as tmp:
        writer = open_writer(tmp, suffix, members, rows, extra)
        done = False
        try:
            yield writer
            writer.close()
            done = True
        finally:
            if not done:  # the block or the closing failed: release the file, then remove it
                writer.abort()
