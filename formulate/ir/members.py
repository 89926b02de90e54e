"""Set members as int64 codes, so index columns vectorise with numpy.

An integer member ``v`` is coded ``2 * v`` (even), a string the odd code ``2 * k + 1`` of its
position ``k`` in the model's string table. Equality of members is equality of codes; arithmetic on
integer members decodes, computes and re-encodes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Member = int | str
#: the largest integer member: codes are 2 * v in int64
MAX_MEMBER = 2**61


class MemberCodec:
    """Encode and decode members (ints and strings) of one model."""

    def __init__(self) -> None:
        self._strings: list[str] = []
        self._string_code: dict[str, int] = {}

    def encode(self, value: Any) -> int:
        if isinstance(value, bool):
            raise TypeError("booleans are not members")
        if isinstance(value, int | np.integer | float) and not (isinstance(value, float) and not value.is_integer()):
            if abs(value) > MAX_MEMBER:
                from formulate.errors import NumberError

                raise NumberError(f"an integer member of {len(str(abs(int(value))))} digits is too large", None,
                                  "integer members have at most 18 digits; quote it to make it a string")
            return int(value) * 2
        if isinstance(value, str):
            code = self._string_code.get(value)
            if code is None:
                code = 2 * len(self._strings) + 1
                self._strings.append(value)
                self._string_code[value] = code
            return code
        raise TypeError(f"{value!r} is not a member (members are integers or strings)")

    def encode_many(self, values: list[Any]) -> np.ndarray:
        if values and all(isinstance(v, int) and not isinstance(v, bool) and abs(v) <= MAX_MEMBER for v in values):
            return np.asarray(values, dtype=np.int64) * 2
        return np.fromiter((self.encode(v) for v in values), dtype=np.int64, count=len(values))

    def decode(self, code: int) -> Member:
        code = int(code)
        if code & 1:
            return self._strings[code >> 1]
        return code >> 1

    def decode_many(self, codes: np.ndarray) -> list[Member]:
        codes = np.asarray(codes)
        if codes.size and not (codes & 1).any():
            return (codes >> 1).tolist()
        return [self.decode(c) for c in codes.tolist()]


class KeyIndex:
    """Positions of k-tuples of codes in a table, for vectorised lookups (-1 where absent)."""

    def __init__(self, keys: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=np.int64)
        if keys.ndim == 1:
            keys = keys[:, None]
        self.keys = keys
        self.arity = keys.shape[1]
        self.size = keys.shape[0]
        self._uniques = [np.unique(keys[:, c]) for c in range(self.arity)]
        self._radix = [max(len(u), 1) for u in self._uniques]
        combined = self._combine_own()
        self._order = np.argsort(combined, kind="stable")
        self._sorted = combined[self._order]

    def _combine_own(self) -> np.ndarray:
        combined = np.zeros(self.size, dtype=np.int64)
        for c in range(self.arity):
            rank = np.searchsorted(self._uniques[c], self.keys[:, c])
            combined = combined * self._radix[c] + rank
        return combined

    def positions(self, columns: list[np.ndarray]) -> np.ndarray:
        """Row position of each query tuple (columns of equal length), -1 where absent."""
        n = len(columns[0]) if columns else 0
        if self.size == 0:
            return np.full(n, -1, dtype=np.int64)
        combined = np.zeros(n, dtype=np.int64)
        ok = np.ones(n, dtype=bool)
        for c, column in enumerate(columns):
            uniques = self._uniques[c]
            rank = np.searchsorted(uniques, column)
            rank_clipped = np.minimum(rank, len(uniques) - 1)
            ok &= uniques[rank_clipped] == column
            combined = combined * self._radix[c] + rank_clipped
        where = np.searchsorted(self._sorted, combined)
        where_clipped = np.minimum(where, self.size - 1)
        ok &= self._sorted[where_clipped] == combined
        return np.where(ok, self._order[where_clipped], -1)
