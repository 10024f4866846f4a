"""One Parquet file made from the column chunks of two, copied byte for byte: no value decoded or encoded again.

A published crime month changes far more often by its journeys (a later month's outcomes) than by its own rows,
yet a Parquet file can only be written whole, and encoding a national month's 33 columns is most of what a
release's publish costs. When the month's own columns did not change, :func:`stitch` builds the new file from the
previous snapshot's file for those columns and a narrow file of the changed ones, written with the same rows in
the same order and the same row groups. The result is an ordinary Parquet file, whole and self-contained:
readers see no difference from a file written in one go (the same values, types, statistics and metadata).

What must stay true: both files hold the same number of row groups with the same rows each, in the same order
(the caller writes the narrow file in the row order of the other and :func:`stitch` checks the counts); every
column is flat (no nesting). Anything this module does not know how to carry over (encryption, page indexes,
column chunks stored in other files) raises :class:`CannotStitch`, and the caller writes the file whole instead.

The Parquet footer is a Thrift structure in the compact protocol. It is read here into plain values that keep
every field, known or not, so the footer written back differs only in the fields this module sets: the schema
and column order, and the byte offsets of the chunks it moved.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

MAGIC = b"PAR1"


class CannotStitch(ValueError):
    """The two files cannot be stitched (different rows or row groups, or a feature not carried over)."""


# --- Thrift compact protocol: a struct is {field id: (type, value)}; a list is (element type, [values]) ---------

STOP, TRUE, FALSE, BYTE, I16, I32, I64, DOUBLE, BINARY, LIST, SET, MAP, STRUCT = range(13)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self) -> int:
        value = self.data[self.pos]
        self.pos += 1
        return value

    def varint(self) -> int:
        shift = result = 0
        while True:
            b = self.byte()
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, kind: int):
        if kind in (TRUE, FALSE):  # inside a list a boolean is a byte of its own
            return self.byte() == TRUE
        if kind == BYTE:
            return struct.unpack("<b", bytes([self.byte()]))[0]
        if kind in (I16, I32, I64):
            return self.zigzag()
        if kind == DOUBLE:
            self.pos += 8
            return struct.unpack("<d", self.data[self.pos - 8 : self.pos])[0]
        if kind == BINARY:
            size = self.varint()
            self.pos += size
            return self.data[self.pos - size : self.pos]
        if kind in (LIST, SET):
            header = self.byte()
            size, element = header >> 4, header & 0x0F
            if size == 15:
                size = self.varint()
            return (element, [self.value(element) for _ in range(size)])
        if kind == STRUCT:
            return self.struct()
        raise CannotStitch(f"Thrift type {kind} is not expected in a Parquet footer")

    def struct(self) -> dict[int, tuple[int, object]]:
        fields: dict[int, tuple[int, object]] = {}
        last = 0
        while True:
            header = self.byte()
            kind = header & 0x0F
            if kind == STOP:
                return fields
            delta = header >> 4
            field = last + delta if delta else self.zigzag()
            fields[field] = (kind, kind == TRUE) if kind in (TRUE, FALSE) else (kind, self.value(kind))
            last = field


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        if n < 0x80:
            out.append(n)
            return bytes(out)
        out.append((n & 0x7F) | 0x80)
        n >>= 7


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


def _value(kind: int, value) -> bytes:
    if kind in (TRUE, FALSE):
        return bytes([TRUE if value else FALSE])
    if kind == BYTE:
        return struct.pack("<b", value)
    if kind in (I16, I32, I64):
        return _zigzag(value)
    if kind == DOUBLE:
        return struct.pack("<d", value)
    if kind == BINARY:
        return _varint(len(value)) + value
    if kind in (LIST, SET):
        element, items = value
        head = (
            bytes([(len(items) << 4) | element]) if len(items) < 15 else bytes([0xF0 | element]) + _varint(len(items))
        )
        return head + b"".join(_value(element, item) for item in items)
    if kind == STRUCT:
        return _struct(value)
    raise CannotStitch(f"Thrift type {kind} is not expected in a Parquet footer")


def _struct(fields: dict[int, tuple[int, object]]) -> bytes:
    out = bytearray()
    last = 0
    for field in sorted(fields):
        kind, value = fields[field]
        if kind in (TRUE, FALSE):
            kind = TRUE if value else FALSE
        delta = field - last
        out += bytes([(delta << 4) | kind]) if 0 < delta <= 15 else bytes([kind]) + _zigzag(field)
        if kind not in (TRUE, FALSE):
            out += _value(kind, value)
        last = field
    out.append(STOP)
    return bytes(out)


# --- Parquet's footer (parquet.thrift): the field ids used here --------------------------------------------------

# FileMetaData
SCHEMA, NUM_ROWS, ROW_GROUPS, COLUMN_ORDERS, ENCRYPTION = 2, 3, 4, 7, 8
# SchemaElement
NAME, NUM_CHILDREN = 4, 5
# RowGroup
COLUMNS, TOTAL_BYTE_SIZE, RG_NUM_ROWS, SORTING_COLUMNS, RG_FILE_OFFSET, RG_COMPRESSED = 1, 2, 3, 4, 5, 6
# ColumnChunk
FILE_PATH, CHUNK_FILE_OFFSET, META_DATA = 1, 2, 3
PAGE_INDEXES, CRYPTO = (4, 5, 6, 7), (8, 9)
# ColumnMetaData
UNCOMPRESSED, COMPRESSED, DATA_PAGE, INDEX_PAGE, DICTIONARY_PAGE, BLOOM_OFFSET, BLOOM_LENGTH = 6, 7, 9, 10, 11, 14, 15


def _footer(file: Path) -> tuple[dict, int]:
    """A Parquet file's FileMetaData and where it starts (the end of the data)."""
    size = file.stat().st_size
    with file.open("rb") as f:
        if size < 12 or f.read(4) != MAGIC:
            raise CannotStitch(f"{file} is not a Parquet file")
        f.seek(size - 8)
        tail = f.read(8)
        if tail[4:] != MAGIC:
            raise CannotStitch(f"{file} has no Parquet footer (an encrypted footer is not carried over)")
        length = struct.unpack("<I", tail[:4])[0]
        start = size - 8 - length
        if start < len(MAGIC):
            raise CannotStitch(f"{file} has a footer longer than the file")
        f.seek(start)
        return _Reader(f.read(length)).struct(), start


def _get(fields: dict, field: int, default=None):
    return fields[field][1] if field in fields else default


def _columns(meta: dict, file: Path) -> dict[str, int]:
    """Column name -> its index among the leaves, for a flat schema."""
    _, schema = meta[SCHEMA][1]
    if _get(schema[0], NUM_CHILDREN) != len(schema) - 1 or any(NUM_CHILDREN in e for e in schema[1:]):
        raise CannotStitch(f"{file} has nested columns")
    return {_get(element, NAME).decode(): i for i, element in enumerate(schema[1:])}


def _chunk_ranges(chunk: dict, end: int, file: Path) -> tuple[dict, list[tuple[int, int]]]:
    """A column chunk's metadata and the byte ranges it owns: its pages, then its bloom filter if any."""
    if FILE_PATH in chunk or any(f in chunk for f in PAGE_INDEXES + CRYPTO):
        raise CannotStitch(f"{file} has page indexes, encryption or column data in another file")
    meta = _get(chunk, META_DATA)
    dictionary = _get(meta, DICTIONARY_PAGE)
    start = dictionary if dictionary else _get(meta, DATA_PAGE)
    ranges = [(start, _get(meta, COMPRESSED))]
    if BLOOM_OFFSET in meta:
        if BLOOM_LENGTH not in meta:
            raise CannotStitch(f"{file} has a bloom filter of unknown length")
        ranges.append((_get(meta, BLOOM_OFFSET), _get(meta, BLOOM_LENGTH)))
    if INDEX_PAGE in meta and not start <= _get(meta, INDEX_PAGE) < start + ranges[0][1]:
        raise CannotStitch(f"{file} has an index page outside its column chunk")
    for offset, length in ranges:
        if offset < len(MAGIC) or offset + length > end:
            raise CannotStitch(f"{file} has a column chunk outside its data")
    return meta, ranges


def _copy(source, target, offset: int, length: int) -> None:
    source.seek(offset)
    while length:
        block = source.read(min(length, 1 << 22))
        if not block:
            raise CannotStitch("a column chunk ends past the end of its file")
        target.write(block)
        length -= len(block)


def stitch(base: Path, other: Path, take: Iterable[str], target: Path) -> int:
    """Write ``target``: the columns of ``base`` in its order, each one named in ``take`` copied from ``other``
    instead, everything else (the file's metadata, such as its key-value pairs) as ``base`` has it. Returns the
    rows. Raises :class:`CannotStitch` when the files differ in rows or row groups, hold what this cannot carry
    over, or have a footer that cannot be read (a damaged file); ``target`` is then left unwritten or removed.
    An error writing ``target`` (a full disk) is raised as it is."""
    try:
        return _stitch(Path(base), Path(other), set(take), Path(target))
    except CannotStitch:
        raise
    except (IndexError, KeyError, TypeError, ValueError, struct.error) as error:
        raise CannotStitch(f"{base} or {other} has a footer that cannot be read: {error!r}") from error


def _stitch(base: Path, other: Path, take: set[str], target: Path) -> int:
    meta, base_end = _footer(base)
    narrow, other_end = _footer(other)
    names, other_names = _columns(meta, base), _columns(narrow, other)
    if ENCRYPTION in meta or ENCRYPTION in narrow:
        raise CannotStitch("an encrypted file is not carried over")
    if missing := sorted(take - names.keys()) + sorted(take - other_names.keys()):
        raise CannotStitch(f"columns missing from one of the files: {missing}")
    groups, other_groups = _get(meta, ROW_GROUPS)[1], _get(narrow, ROW_GROUPS)[1]
    shape, other_shape = [_get(g, RG_NUM_ROWS) for g in groups], [_get(g, RG_NUM_ROWS) for g in other_groups]
    if shape != other_shape or _get(meta, NUM_ROWS) != _get(narrow, NUM_ROWS):
        raise CannotStitch(f"the files' row groups differ: {shape} and {other_shape}")
    footers = {base: meta, other: narrow}
    # each column of base's, in its order: the file it comes from and its index there
    sources = [(other, other_names[name]) if name in take else (base, names[name]) for name in names]
    try:
        with base.open("rb") as from_base, other.open("rb") as from_other, target.open("wb") as out:
            handles = {base: (from_base, base_end), other: (from_other, other_end)}
            out.write(MAGIC)
            new_groups = []
            blooms = []  # (new column metadata, source handle, offset, length): written after the data
            for g, group in enumerate(groups):
                chunks = []
                for file, index in sources:
                    handle, end = handles[file]
                    chunk = dict(_get(_get(footers[file], ROW_GROUPS)[1][g], COLUMNS)[1][index])
                    column_meta, ranges = _chunk_ranges(chunk, end, file)
                    column_meta = dict(column_meta)
                    (start, length), moved = ranges[0], out.tell() - ranges[0][0]
                    _copy(handle, out, start, length)
                    for field in (DATA_PAGE, INDEX_PAGE, DICTIONARY_PAGE):
                        if field in column_meta and column_meta[field][1]:
                            column_meta[field] = (column_meta[field][0], column_meta[field][1] + moved)
                    offset = _get(chunk, CHUNK_FILE_OFFSET, 0)
                    if offset:  # deprecated; where set, within the chunk (else it cannot be kept right)
                        if not start <= offset <= start + length:
                            raise CannotStitch(f"{file} has a column chunk offset outside the chunk")
                        chunk[CHUNK_FILE_OFFSET] = (I64, offset + moved)
                    if len(ranges) > 1:
                        blooms.append((column_meta, handle, *ranges[1]))
                    chunk[META_DATA] = (STRUCT, column_meta)
                    chunks.append(chunk)
                first = chunks[0][META_DATA][1]
                new_group = {k: v for k, v in group.items() if k != SORTING_COLUMNS}  # column indexes: not kept
                new_group[COLUMNS] = (LIST, (STRUCT, chunks))
                new_group[TOTAL_BYTE_SIZE] = (I64, sum(_get(c[META_DATA][1], UNCOMPRESSED) for c in chunks))
                new_group[RG_COMPRESSED] = (I64, sum(_get(c[META_DATA][1], COMPRESSED) for c in chunks))
                new_group[RG_FILE_OFFSET] = (I64, _get(first, DICTIONARY_PAGE) or _get(first, DATA_PAGE))
                new_groups.append(new_group)
            for column_meta, handle, offset, length in blooms:
                column_meta[BLOOM_OFFSET] = (I64, out.tell())
                _copy(handle, out, offset, length)
            footer = dict(meta)
            root = _get(meta, SCHEMA)[1][0]
            footer[SCHEMA] = (LIST, (STRUCT, [root] + [_get(footers[f], SCHEMA)[1][i + 1] for f, i in sources]))
            footer[ROW_GROUPS] = (LIST, (STRUCT, new_groups))
            if COLUMN_ORDERS in meta and COLUMN_ORDERS in narrow:
                footer[COLUMN_ORDERS] = (LIST, (STRUCT, [_get(footers[f], COLUMN_ORDERS)[1][i] for f, i in sources]))
            else:
                footer.pop(COLUMN_ORDERS, None)
            encoded = _struct(footer)
            out.write(encoded + struct.pack("<I", len(encoded)) + MAGIC)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return _get(meta, NUM_ROWS)
