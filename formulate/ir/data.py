"""Sets, index domains and parameter tables, as built from a Formulation's data (language.md §2–§3)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from formulate.ir.members import KeyIndex, MemberCodec


@dataclass
class SetData:
    """An ordered set: members (ints, strings or tuples of them) and their codes."""

    name: str
    members: list
    codes: np.ndarray  # (n,) for simple members, (n, k) for k-tuples
    codec: MemberCodec
    _index: KeyIndex | None = field(default=None, repr=False)
    _range_start: int | None = field(default=None, repr=False)
    _member_pos: dict | None = field(default=None, repr=False)

    @classmethod
    def build(cls, name: str, members: list, codec: MemberCodec) -> SetData:
        arity = len(members[0]) if members and isinstance(members[0], tuple) else 1
        if arity == 1:
            codes = codec.encode_many(members)
        else:
            codes = np.array([[codec.encode(m) for m in t] for t in members], dtype=np.int64).reshape(-1, arity)
        result = cls(name, members, codes, codec)
        if arity == 1 and len(members) and (codes[0] & 1) == 0:
            start = int(codes[0] >> 1)
            if np.array_equal(codes >> 1, np.arange(start, start + len(members), dtype=np.int64)):
                result._range_start = start
        return result

    @property
    def arity(self) -> int:
        return 1 if self.codes.ndim == 1 else int(self.codes.shape[1])

    def __len__(self) -> int:
        return len(self.members)

    def positions(self, columns: list[np.ndarray]) -> np.ndarray:
        """Position of each query (one code column per component), -1 where not a member."""
        if self._range_start is not None and len(columns) == 1:
            column = columns[0]
            pos = (column >> 1) - self._range_start
            ok = ((column & 1) == 0) & (pos >= 0) & (pos < len(self.members))
            return np.where(ok, pos, -1)
        if self._index is None:
            self._index = KeyIndex(self.codes)
        return self._index.positions(columns)

    def position_of(self, member) -> int | None:
        """Position of one member (None if absent)."""
        if self._member_pos is None:
            self._member_pos = {m: i for i, m in enumerate(self.members)}
        try:
            return self._member_pos.get(member)
        except TypeError:
            return None

    def component_codes(self) -> list[np.ndarray]:
        """One code column per component."""
        return [self.codes] if self.codes.ndim == 1 else [self.codes[:, c] for c in range(self.arity)]

    def preview(self, limit: int = 8) -> str:
        shown = ", ".join(_fmt_member(m) for m in self.members[:limit])
        return f"[{shown}{', ...' if len(self.members) > limit else ''}]"


def _fmt_member(member) -> str:
    if isinstance(member, tuple):
        return "(" + ", ".join(_fmt_member(m) for m in member) + ")"
    return str(member)


@dataclass
class Domain:
    """The product of index sets: flat positions in row-major order over the sets' members."""

    sets: list[SetData]

    @property
    def size(self) -> int:
        size = 1
        for s in self.sets:
            size *= len(s)
        return size

    @property
    def arity(self) -> int:
        return sum(s.arity for s in self.sets)

    def names(self) -> str:
        return ", ".join(s.name for s in self.sets)

    def flat_positions(self, components: list[np.ndarray], set_positions: list[np.ndarray | None]) -> np.ndarray:
        """Flat positions for per-component code columns; -1 where any part is outside its set.

        ``set_positions[k]``, when given, is the already-known (valid) position of component k in set k.
        """
        n = len(components[0]) if components else 1
        flat: np.ndarray | None = None
        bad: np.ndarray | None = None
        c = 0
        for k, s in enumerate(self.sets):
            known = set_positions[k] if k < len(set_positions) else None
            if known is None:
                pos = s.positions(components[c:c + s.arity])
                missing = pos < 0
                bad = missing if bad is None else (bad | missing)
            else:
                pos = known
            flat = pos.astype(np.int64, copy=True) if flat is None else flat * len(s) + pos
            c += s.arity
        if flat is None:
            return np.zeros(n, dtype=np.int64)
        if bad is not None and bad.any():
            flat[bad] = -1
        return flat

    def key_columns(self) -> list[np.ndarray]:
        """All keys as code columns (one per component), in flat order."""
        if not self.sets:
            return []
        grids = np.indices([len(s) for s in self.sets]).reshape(len(self.sets), -1) if self.size else \
            np.zeros((len(self.sets), 0), dtype=np.int64)
        columns: list[np.ndarray] = []
        for k, s in enumerate(self.sets):
            for comp in s.component_codes():
                columns.append(comp[grids[k]])
        return columns

    def key(self, flat: int) -> tuple:
        """The member tuple at a flat position."""
        parts: list = []
        sizes = [len(s) for s in self.sets]
        idx = np.unravel_index(flat, sizes) if sizes else ()
        for s, i in zip(self.sets, idx, strict=True):
            member = s.members[int(i)]
            parts.extend(member if isinstance(member, tuple) else (member,))
        return tuple(parts)

    def keys(self) -> list[tuple]:
        """Every key in flat order (tuples of members)."""
        if not self.sets:
            return [()]
        columns = self.key_columns()
        codec = self.sets[0].codec
        decoded = [codec.decode_many(c) for c in columns]
        return list(zip(*decoded, strict=True))


@dataclass
class ParamData:
    """A parameter table: dense values over its domain, with a mask of given entries."""

    name: str
    domain: Domain
    values: np.ndarray  # float64, or int64 member codes when is_member
    present: np.ndarray  # bool
    is_member: bool = False
    default: float | int | None = None  # a code when is_member

    @property
    def scalar(self) -> bool:
        return not self.domain.sets
