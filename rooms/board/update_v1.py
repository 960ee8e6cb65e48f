"""Read the structure of a Yjs v1 update without applying it.

The board needs three facts about an incoming update before it touches the
document: which clock ranges it carries, which ids it depends on, and at most
how many top-level map keys it could create.  pycrdt exposes none of them, so
this module walks the v1 encoding (lib0 varints, structs, delete set) and keeps
only those facts.  Content is skipped, never materialised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .exceptions import StateVectorInvalid, UpdateUndecodable

_GC, _DELETED, _JSON, _BINARY, _STRING, _EMBED, _FORMAT, _TYPE, _ANY, _DOC, _SKIP = range(11)
_HAS_ORIGIN, _HAS_RIGHT_ORIGIN, _HAS_PARENT_SUB = 0x80, 0x40, 0x20
_XML_ELEMENT, _XML_HOOK, _LAST_TYPE_REF = 3, 5, 6
_MAX_VARINT_BYTES = 10

Id = tuple[int, int]


@dataclass(frozen=True)
class StructRange:
    """A run of clocks `[clock, clock + length)` of one client; `skip` marks a hole."""

    client: int
    clock: int
    length: int
    skip: bool


@dataclass(frozen=True)
class UpdateSummary:
    """What the board must know about an update before integrating it."""

    ranges: tuple[StructRange, ...]
    references: frozenset[Id]
    deletes: tuple[StructRange, ...]
    key_bound: int

    def is_ready(self, state: Mapping[int, int]) -> bool:
        """True when every dependency is in `state` or in the update itself."""
        covered = dict(state)
        for run in self.ranges:
            if run.skip:
                continue
            if run.clock > covered.get(run.client, 0):
                return False
            covered[run.client] = max(covered.get(run.client, 0), run.clock + run.length)
        refs_ok = all(clock < covered.get(client, 0) for client, clock in self.references)
        return refs_ok and all(d.clock + d.length <= covered.get(d.client, 0) for d in self.deletes)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def uint(self) -> int:
        value, shift = 0, 0
        for _ in range(_MAX_VARINT_BYTES):
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
        raise UpdateUndecodable("A varint in the update is longer than ten bytes.")

    def byte(self) -> int:
        if self._pos >= len(self._data):
            raise UpdateUndecodable("The update ends in the middle of a value.")
        self._pos += 1
        return self._data[self._pos - 1]

    def skip(self, count: int) -> None:
        if self._pos + count > len(self._data):
            raise UpdateUndecodable("The update ends in the middle of a value.")
        self._pos += count

    def blob(self) -> bytes:
        size = self.uint()
        self.skip(size)
        return self._data[self._pos - size : self._pos]

    def string(self) -> str:
        try:
            return self.blob().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise UpdateUndecodable("A string in the update is not UTF-8.") from exc

    def ident(self) -> Id:
        return self.uint(), self.uint()


_FIXED_ANY = {127: 0, 126: 0, 125: -1, 124: 4, 123: 8, 122: 8, 121: 0, 120: 0}


def _skip_any(reader: _Reader) -> None:
    tag = reader.byte()
    size = _FIXED_ANY.get(tag)
    if size is not None and size < 0:
        reader.uint()
    elif size is not None:
        reader.skip(size)
    elif tag in (119, 116):
        reader.blob()
    elif tag == 118:
        for _ in range(reader.uint()):
            reader.blob()
            _skip_any(reader)
    elif tag == 117:
        for _ in range(reader.uint()):
            _skip_any(reader)
    else:
        raise UpdateUndecodable(f"Unknown value tag {tag} in the update.")


def _content_length(reader: _Reader, ref: int) -> int:
    if ref == _DELETED:
        return reader.uint()
    if ref in (_JSON, _ANY):
        count = reader.uint()
        for _ in range(count):
            if ref == _JSON:
                reader.blob()
            else:
                _skip_any(reader)
        return count
    if ref == _STRING:
        return len(reader.string().encode("utf-16-le")) // 2
    if ref in (_BINARY, _EMBED):
        reader.blob()
    elif ref == _FORMAT:
        reader.blob()
        reader.blob()
    elif ref == _TYPE:
        _skip_type(reader)
    elif ref == _DOC:
        reader.blob()
        _skip_any(reader)
    else:
        raise UpdateUndecodable(f"Unsupported content type {ref} in the update.")
    return 1


def _skip_type(reader: _Reader) -> None:
    type_ref = reader.uint()
    if type_ref > _LAST_TYPE_REF:
        raise UpdateUndecodable(f"Unsupported shared type {type_ref} in the update.")
    if type_ref in (_XML_ELEMENT, _XML_HOOK):
        reader.blob()


class _Walk:
    """Accumulates the summary while reading structs."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.ranges: list[StructRange] = []
        self.references: set[Id] = set()
        self.key_bound = 0

    def item(self, reader: _Reader, info: int) -> int:
        anchored = bool(info & (_HAS_ORIGIN | _HAS_RIGHT_ORIGIN))
        for flag in (_HAS_ORIGIN, _HAS_RIGHT_ORIGIN):
            if info & flag:
                self.references.add(reader.ident())
        on_root = False
        if not anchored:
            if reader.uint() == 1:
                on_root = reader.string() == self.root
            else:
                self.references.add(reader.ident())
            if info & _HAS_PARENT_SUB:
                reader.blob()
        ref = info & 0x1F
        length = _content_length(reader, ref)
        # An anchored item inherits its parent from an item we cannot see, so it
        # may (re)create a top-level key; count it.  Deleted content never does.
        if ref != _DELETED and (anchored or on_root):
            self.key_bound += 1
        return length

    def client(self, reader: _Reader) -> None:
        count, client, clock = reader.uint(), reader.uint(), reader.uint()
        for _ in range(count):
            info = reader.byte()
            ref = info & 0x1F
            length = reader.uint() if ref in (_GC, _SKIP) else self.item(reader, info)
            self.ranges.append(StructRange(client, clock, length, ref == _SKIP))
            clock += length


def _delete_set(reader: _Reader) -> tuple[StructRange, ...]:
    deletes: list[StructRange] = []
    for _ in range(reader.uint()):
        client = reader.uint()
        for _ in range(reader.uint()):
            clock, length = reader.uint(), reader.uint()
            deletes.append(StructRange(client, clock, length, False))
    return tuple(deletes)


def summarize_update(update: bytes, root: str) -> UpdateSummary:
    """Decode `update` far enough to summarise it; `root` names the board map.

    Raises UpdateUndecodable when the bytes are not a well-formed v1 update.
    """
    reader, walk = _Reader(update), _Walk(root)
    for _ in range(reader.uint()):
        walk.client(reader)
    deletes = _delete_set(reader)
    return UpdateSummary(tuple(walk.ranges), frozenset(walk.references), deletes, walk.key_bound)


def decode_state_vector(state_vector: bytes) -> dict[int, int]:
    """Decode a Yjs state vector into `{client: next clock}`."""
    reader = _Reader(state_vector)
    try:
        return {reader.uint(): reader.uint() for _ in range(reader.uint())}
    except UpdateUndecodable as exc:
        raise StateVectorInvalid("The bytes are not a Yjs state vector.") from exc
