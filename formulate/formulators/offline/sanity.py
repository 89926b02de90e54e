"""Cheap checks that a read model can be what the text meant: it solves, and no row is empty of meaning."""

from __future__ import annotations

from formulate.formulators.offline.patterns import Row


def lp_status(objective: dict[int, float], sense: str, rows: list[Row], n: int) -> str:
    """``optimal``, ``infeasible`` or ``unbounded`` for the LP relaxation (x >= 0), solved with HiGHS.

    (A MIP solve would cost HiGHS's thread start-up, tens of ms; :func:`integer_infeasible` checks the
    whole-number side by enumeration instead.)
    """
    import highspy

    h = _lp(objective, sense, rows, n)
    h.run()
    status = h.getModelStatus()
    if status in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
        return "optimal"
    if status == highspy.HighsModelStatus.kInfeasible:
        return "infeasible"
    return "unbounded"


def conflicting_rows(rows: list[Row], n: int) -> list[Row]:
    """The rows of an irreducible infeasible set of the LP read (x >= 0), in text order; [] when none is found."""
    from formulate.solvers.iis import IRREDUCIBLE

    h = _lp({}, "minimize", rows, n)
    h.setOptionValue("iis_strategy", IRREDUCIBLE)
    h.run()
    try:
        _, iis = h.getIis()
    except Exception:  # noqa: BLE001 - an older HiGHS without IIS: the refusal simply names no rows
        return []
    if not iis.valid_:
        return []
    return [rows[i] for i in sorted(int(i) for i in iis.row_index_)]


def _lp(objective: dict[int, float], sense: str, rows: list[Row], n: int):  # noqa: ANN202 - a highspy.Highs
    """The LP read, loaded into a fresh quiet HiGHS (x >= 0, half a second at most)."""
    import highspy
    import numpy as np

    from formulate.solvers.highs import new_highs

    h = new_highs()
    h.setOptionValue("time_limit", 0.5)
    inf = highspy.kHighsInf
    sign = -1.0 if sense == "maximize" else 1.0
    for k in range(n):
        h.addVar(0.0, inf)
        h.changeColCost(k, sign * objective.get(k, 0.0))
    for r in rows:
        idx = np.array(sorted(r.coefs), dtype=np.int32)
        val = np.array([r.coefs[k] for k in sorted(r.coefs)], dtype=np.float64)
        lo = r.rhs if r.op in (">=", "==") else -inf
        hi = r.rhs if r.op in ("<=", "==") else inf
        h.addRow(lo, hi, len(idx), idx, val)
    return h


def empty_rows(rows: list[Row]) -> list[Row]:
    """Rows that say nothing (``0.3*x >= 0``, ``x + y >= 0``) or force zero (``-x - 2*y >= 0``)."""
    out = []
    for r in rows:
        coefs = [c for c in r.coefs.values() if c != 0]
        if not coefs:
            out.append(r)
            continue
        pos, neg = all(c > 0 for c in coefs), all(c < 0 for c in coefs)
        if r.rhs != 0 or not (pos or neg):
            continue
        forces_zero = (pos and r.op in ("<=", "==")) or (neg and r.op in (">=", "=="))
        bare_bound = len(coefs) == 1 and abs(coefs[0]) == 1
        if forces_zero and (len(coefs) > 1 or not bare_bound) or not forces_zero and not bare_bound:
            out.append(r)
    return out


def integer_infeasible(rows: list[Row], n: int, limit: int = 50_000) -> bool:
    """True when no whole-number point meets every row (checked by enumeration when the box is small).

    The box comes from rows with non-negative coefficients and ``<=``; a larger or unbounded box is not
    checked (False).
    """
    import numpy as np

    upper = [float("inf")] * n
    for r in rows:
        if r.op in ("<=", "==") and all(c >= 0 for c in r.coefs.values()):
            for k, c in r.coefs.items():
                if c > 0:
                    upper[k] = min(upper[k], r.rhs / c)
    if any(u == float("inf") or u < 0 for u in upper):
        return False
    sizes = [int(np.floor(u + 1e-9)) + 1 for u in upper]
    if np.prod(sizes, dtype=np.float64) > limit:
        return False
    grid = np.indices(sizes, dtype=np.float64).reshape(n, -1).T
    ok = np.ones(len(grid), dtype=bool)
    for r in rows:
        lhs = sum(c * grid[:, k] for k, c in r.coefs.items())
        if r.op == "<=":
            ok &= lhs <= r.rhs + 1e-9
        elif r.op == ">=":
            ok &= lhs >= r.rhs - 1e-9
        else:
            ok &= np.abs(lhs - r.rhs) <= 1e-9
    return not ok.any()
