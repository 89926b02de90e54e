"""Build sets and parameter tables from a Formulation, in dependency order (language.md §2–§3)."""

from __future__ import annotations

import ast
import csv
import io
import itertools
from pathlib import Path
from typing import Any

import numpy as np

from formulate.errors import DataFileError, FormulationError, NumberError
from formulate.ir.data import Domain, ParamData, SetData
from formulate.ir.datafiles import read_data_file, resolve_data_file
from formulate.ir.evaluate import Evaluator, Table
from formulate.ir.expr import parse_expression
from formulate.ir.limits import check_elements
from formulate.ir.members import MAX_MEMBER
from formulate.ir.model import Parameter
from formulate.ir.values import Data, Mem


def _member(value: Any, where: str) -> Any:
    if isinstance(value, bool):
        raise FormulationError(f"`{value}` is a boolean, not a member", where,
                               "quote it (YAML 1.2 reads true/false as booleans) or use another name")
    if isinstance(value, float):
        if value.is_integer() and abs(value) <= MAX_MEMBER:
            return int(value)
        raise FormulationError(f"`{value}` is not an integer of at most 18 digits or a string", where,
                               "members are integers or strings")
    if isinstance(value, int) and abs(value) > MAX_MEMBER:
        raise FormulationError(f"the integer member `{str(value)[:20]}...` is too large", where,
                               "integer members have at most 18 digits; quote it to make it a string")
    if isinstance(value, list | tuple):
        if not value:
            raise FormulationError("an empty list `[]` is not a member", where,
                                   "members are integers, strings or lists of them ([a, 1] for a pair)")
        if any(isinstance(v, list | tuple | dict) for v in value):
            raise FormulationError(f"`{value!r}` nests lists inside a member", where,
                                   "a tuple member is a flat list such as [a, 1]")
        parts = tuple(_member(v, where) for v in value)
        return parts[0] if len(parts) == 1 else parts
    if isinstance(value, int | str):
        return value
    raise FormulationError(f"`{value!r}` is not a member", where, "members are integers, strings or lists of them")


def set_members_from_list(values: list, where: str) -> list:
    members = [_member(v, where) for v in values]
    arities = {len(m) if isinstance(m, tuple) else 1 for m in members}
    if len(arities) > 1:
        raise FormulationError("mixes single members and tuples of different lengths", where,
                               "write every member the same way, e.g. all as [a, b] pairs")
    return list(dict.fromkeys(members))


def evaluate_set_expression(ev: Evaluator, text: str, where: str) -> list:
    """Members of a set written as `range(a, b)`, a comprehension, a list, or sets combined with `|`, `&`, `-`."""
    return _set_members(ev, parse_expression(text, where), text, where)


_SET_OPS = (ast.BitOr, ast.BitAnd, ast.Sub)


def _set_members(ev: Evaluator, tree: ast.expr, text: str, where: str) -> list:
    if isinstance(tree, ast.BinOp) and isinstance(tree.op, _SET_OPS) and _is_set_operand(ev, tree.left) \
            and _is_set_operand(ev, tree.right):
        left = _set_members(ev, tree.left, ast.unparse(tree.left), where)
        right = _set_members(ev, tree.right, ast.unparse(tree.right), where)
        arities = {len(m) if isinstance(m, tuple) else 1 for m in left[:1] + right[:1]}
        if len(arities) > 1:
            raise FormulationError(f"`{ast.unparse(tree)}` combines sets whose members have different numbers of "
                                   "parts", where, "combine sets of the same kind of member")
        if isinstance(tree.op, ast.BitOr):
            return list(dict.fromkeys(left + right))
        other = set(right)
        if isinstance(tree.op, ast.BitAnd):
            return [m for m in left if m in other]
        return [m for m in left if m not in other]
    return _set_leaf(ev, tree, text, where)


def _literal_member(ev: Evaluator, node: ast.expr, where: str) -> Any:
    """A member written in a list expression: a constant, a bare word (`d` as in YAML lists) or a tuple."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float | str) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, int | float) and not isinstance(node.operand.value, bool):
        return -node.operand.value
    if isinstance(node, ast.Name) and ev.ctx.get_param(node.id) is None and ev.ctx.get_set(node.id) is None:
        return node.id
    if isinstance(node, ast.Tuple | ast.List):
        return [_literal_member(ev, e, where) for e in node.elts]
    raise FormulationError(f"`{ast.unparse(node)}` is not a member", where,
                           "write members as numbers or quoted strings, e.g. ['a', 'b']")


def _is_set_operand(ev: Evaluator, node: ast.expr) -> bool:
    """A set name, a literal list, a comprehension, range(...) or a combination of them."""
    if isinstance(node, ast.Name):
        return ev.ctx.get_set(node.id) is not None
    if isinstance(node, ast.BinOp) and isinstance(node.op, _SET_OPS):
        return _is_set_operand(ev, node.left) and _is_set_operand(ev, node.right)
    if isinstance(node, ast.Call):
        return getattr(node.func, "id", "") == "range"
    return isinstance(node, ast.List | ast.SetComp | ast.ListComp | ast.GeneratorExp)


def _set_leaf(ev: Evaluator, tree: ast.expr, text: str, where: str) -> list:
    one = Table(1)
    if isinstance(tree, ast.Call) and getattr(tree.func, "id", "") == "range":
        s, _, codes, _ = ev.iterable(tree, one)
        return ev.codec.decode_many(codes)
    if isinstance(tree, ast.DictComp):
        raise FormulationError(f"`{_comprehension_text(tree)}` builds a keyed table (a parameter); move it under "
                               "`parameters:`", where, "a set comprehension `{(d, t) for d in D for t in T if ...}` is "
                               "what builds a set")
    if isinstance(tree, ast.SetComp | ast.ListComp | ast.GeneratorExp):
        expanded, _ = ev.expand(tree.generators, one)
        value = ev.eval(tree.elt, expanded)
        mem = value if isinstance(value, Mem) else ev.to_codes(value, tree.elt, expanded)
        if mem.codes.ndim == 1:
            members = ev.codec.decode_many(mem.codes)
        else:
            columns = [ev.codec.decode_many(mem.codes[:, c]) for c in range(mem.codes.shape[1])]
            members = list(zip(*columns, strict=True))
        return list(dict.fromkeys(members))
    if isinstance(tree, ast.List | ast.Tuple):
        return set_members_from_list([_literal_member(ev, e, where) for e in tree.elts], where)
    if isinstance(tree, ast.Name) and ev.ctx.get_set(tree.id) is not None:
        return list(ev.ctx.get_set(tree.id).members)  # type: ignore[union-attr]
    raise FormulationError(f"cannot build a set from `{text}`", where,
                           "write a list, `range(a, b)` or a quoted comprehension `{(i, j) for i in I for j in J if ...}`")


def _has_bool(values: list) -> bool:
    """Whether nested lists hold a boolean anywhere (numpy would read it as 1)."""
    stack = [values]
    while stack:
        items = stack.pop()
        if any(type(v) is bool for v in items):
            return True
        stack.extend(v for v in items if isinstance(v, list))
    return False


class TableBuilder:
    """Fills a dense parameter table from mappings, nested lists or CSV rows."""

    def __init__(self, name: str, domain: Domain, codec) -> None:
        self.name = name
        self.domain = domain
        self.codec = codec
        self.where = f"parameter `{name}`"
        check_elements(domain.size, f"the table over [{domain.names()}]", self.where)
        self.values = np.zeros(domain.size, dtype=float)
        self.codes = np.zeros(domain.size, dtype=np.int64)
        self.present = np.zeros(domain.size, dtype=bool)
        self.kinds: set[str] = set()

    def put(self, flat: int, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, bool):
            raise FormulationError(f"value `{value}` is a boolean", self.where, "write 1 or 0")
        if isinstance(value, int | float):
            self.values[flat] = data_number(value, self.where)
            self.kinds.add("number")
        elif isinstance(value, str):
            number = _number(value)
            if number is not None:
                self.values[flat] = data_number(number, self.where)
                self.kinds.add("number")
            else:
                self.codes[flat] = self.codec.encode(value)
                self.kinds.add("member")
        else:
            raise FormulationError(f"value `{value!r}` is not a number or a member", self.where,
                                   "give numbers (or set members) at the innermost level")
        self.present[flat] = True

    def fill(self, values: Any) -> None:
        sets = self.domain.sets
        if not isinstance(values, dict | list) and values is not None:
            for flat in range(self.domain.size):
                self.put(flat, values)
            return
        if isinstance(values, list) and self._fill_dense(values):
            return
        self._fill_level(values, 0, 0, [])
        del sets

    def _fill_dense(self, values: list) -> bool:
        """Fast path: nested lists of numbers with exactly the domain's shape."""
        shape = tuple(len(s) for s in self.domain.sets)
        if _has_bool(values):
            return False  # the slow path names the boolean
        try:
            array = np.asarray(values, dtype=float)
        except (ValueError, TypeError, OverflowError):
            return False
        if array.shape != shape:
            return False
        self.values[:] = array.reshape(-1)
        self.present[:] = ~np.isnan(self.values)
        self.kinds.add("number")
        return True

    def _fill_level(self, values: Any, level: int, flat: int, path: list) -> None:
        sets = self.domain.sets
        s = sets[level]
        last = level == len(sets) - 1
        if isinstance(values, list):
            if len(values) != len(s):
                where_text = f"row {path[-1] + 1} has" if path and isinstance(path[-1], int) else "has"
                if level == 0:
                    raise FormulationError(f"{len(values)} values but set `{s.name}` has {len(s)} members",
                                           self.where, f"give one value per member of {s.name} {s.preview()}")
                raise FormulationError(f"{where_text} {len(values)} values but set `{s.name}` has {len(s)} members",
                                       self.where, f"give one value per member of {s.name} {s.preview()}")
            items = list(enumerate(values))
        elif isinstance(values, dict):
            items = []
            for key, v in values.items():
                if s.arity > 1 and isinstance(v, dict) and self._tuple_position(s, (key,)) is None:
                    items.extend(self._nested_tuple_items(s, (key,), v))
                    continue
                pos = self._position(s, key)
                items.append((pos, v))
        else:
            raise FormulationError(f"expected a list or mapping for set `{s.name}`, got `{values!r}`", self.where,
                                   "nest one level per index set")
        for pos, v in items:
            child = flat * len(s) + pos
            if last:
                self.put(child, v)
            elif v is not None:
                self._fill_level(v, level + 1, child, path + [pos])

    def _nested_tuple_items(self, s: SetData, prefix: tuple, values: dict) -> list[tuple[int, Any]]:
        """Nested mappings over a k-tuple set, one level per component: ``{1: {1: 9, 2: 8}}`` -> (1, 1), (1, 2)."""
        items: list[tuple[int, Any]] = []
        for key, v in values.items():
            path = prefix + (key,)
            if len(path) < s.arity:
                if not isinstance(v, dict):
                    raise FormulationError(f"key {_path_text(path)} has {len(path)} of the {s.arity} parts of a "
                                           f"member of `{s.name}`", self.where,
                                           f"nest one mapping level per part of {s.name}'s members {s.preview()}")
                items.extend(self._nested_tuple_items(s, path, v))
                continue
            pos = self._tuple_position(s, path)
            if pos is None:
                raise FormulationError(f"key {_path_text(path)} is not a member of set `{s.name}` {s.preview()}",
                                       self.where, "use the set's members as keys")
            items.append((pos, v))
        return items

    @staticmethod
    def _tuple_position(s: SetData, parts: tuple) -> int | None:
        """Position of the member whose components are ``parts`` (keys may be numbers written as text)."""
        if len(parts) != s.arity:
            return None
        options = []
        for part in parts:
            candidates = [part]
            if isinstance(part, str):
                number = _number(part)
                if number is not None and float(number).is_integer():
                    candidates.append(int(number))
            elif isinstance(part, int) and not isinstance(part, bool):
                candidates.append(str(part))
            options.append(candidates)
        for combo in itertools.product(*options):
            pos = s.position_of(tuple(combo))
            if pos is not None:
                return pos
        return None

    def _position(self, s: SetData, key: Any) -> int:
        if isinstance(key, bool):
            raise FormulationError(f"key `{key}` is a boolean", self.where, "quote the key")
        candidates = [key]
        if isinstance(key, str):
            number = _number(key)
            if number is not None and float(number).is_integer():
                candidates.append(int(number))
            if s.arity > 1:
                parts = [p.strip().strip("'\"") for p in key.strip("()[] ").split(",")]
                candidates.append(tuple(_number(p) if _number(p) is not None and float(_number(p)).is_integer()
                                        and not p.isalpha() else p for p in parts))
                candidates[-1] = tuple(int(p) if isinstance(p, float) else p for p in candidates[-1])
        elif isinstance(key, int):
            candidates.append(str(key))
        for c in candidates:
            pos = s.position_of(c)
            if pos is not None:
                return pos
        raise FormulationError(f"key `{key}` is not a member of set `{s.name}` {s.preview()}", self.where,
                               "use the set's members as keys")

    def fill_npy(self, data: bytes, shown: str) -> None:
        """A dense NumPy array in the shape of the index sets (the fast path for large tables).

        The header is read first: a claimed shape larger than the file or the element limit is refused
        before anything is allocated.
        """
        fp = io.BytesIO(data)
        bad = DataFileError(f"`{shown}` is not a valid .npy file", self.where, "write it with numpy.save")
        try:
            version = np.lib.format.read_magic(fp)
            reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = reader(fp)
        except Exception:  # noqa: BLE001 - numpy's messages quote the header; ours do not
            raise bad from None
        if dtype.kind not in "biuf" or dtype.hasobject:
            raise DataFileError(f"`{shown}` holds {dtype.kind!r}-kind values, not numbers", self.where,
                                "save a numeric array")
        count = 1
        for extent in shape:
            count *= int(extent)
        check_elements(count, f"`{shown}` (shape {tuple(shape)})", self.where)
        offset = fp.tell()
        if count * dtype.itemsize != len(data) - offset:
            raise DataFileError(f"`{shown}` claims shape {tuple(shape)}, but its size does not match", self.where,
                                "write it with numpy.save")
        want = tuple(len(s) for s in self.domain.sets)
        if tuple(shape) != want:
            raise DataFileError(f"`{shown}` has shape {tuple(shape)}, but [{self.domain.names()}] is {want}",
                                self.where, "save an array with one axis per index set, in set order")
        array = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
        array = array.reshape(shape, order="F" if fortran else "C")
        values = np.asarray(array, dtype=float).reshape(-1)
        self.values[:] = values
        self.present[:] = ~np.isnan(self.values)
        self.kinds.add("number")

    def fill_csv(self, data: bytes, shown: str) -> None:
        """Rows `set..., value` with a header; nothing of the file's content is quoted in an error."""
        sets = self.domain.sets
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DataFileError(f"`{shown}` is not UTF-8 text", self.where, "give a CSV file (or a .npy array)") from None
        k = len(sets)
        expected = [s.name for s in sets] + ["value"]
        try:
            reader = csv.reader(io.StringIO(text, newline=""))
            header = [h.strip() for h in next(reader, [])]
            rows = list(reader)
        except csv.Error:
            raise DataFileError(f"`{shown}` is not a valid CSV file", self.where,
                                "write one header row and one row per entry, comma separated") from None
        if not header:
            raise DataFileError(f"`{shown}` is empty", self.where, f"write a header row {','.join(expected)}")
        if [h.lower() if h.lower() == "value" else h for h in header] != expected:
            raise DataFileError(f"`{shown}`: the header row has {len(header)} columns but not the expected names",
                                self.where, f"the header must be `{','.join(expected)}`: one column per index set, "
                                "named as the set, and a `value` column")
        rows = [r for r in rows if r]
        check_elements(len(rows), f"`{shown}`", self.where)
        for number, row in enumerate(rows, start=2):
            if len(row) != k + 1:
                raise DataFileError(f"`{shown}` row {number} has {len(row)} fields, expected {k + 1}", self.where,
                                    "give one field per index set and a value")
        columns = list(zip(*rows, strict=True)) if rows else [[] for _ in range(k + 1)]
        codes = []
        for c, s in enumerate(sets):
            raw = columns[c]
            kinds = {type(m) for m in s.members[:1]}
            if int in kinds:
                try:
                    ints = np.asarray(raw, dtype=np.int64)
                    if not len(ints) or np.abs(ints).max() < 2**61:
                        codes.append(ints * 2)
                        continue
                except (ValueError, OverflowError):
                    pass
            codes.append(np.fromiter((self._csv_code(v) for v in raw), dtype=np.int64, count=len(raw)))
        flat = self.domain.flat_positions(codes, [])
        if (flat < 0).any():
            bad = int(np.argmax(flat < 0))
            raise DataFileError(f"`{shown}` row {bad + 2}: its key is not a member of [{self.domain.names()}]",
                                self.where, "fix the key or the set")
        try:
            values = np.asarray(columns[k], dtype=float)
        except (ValueError, OverflowError):
            for f, v in zip(flat.tolist(), columns[k], strict=True):
                self.put(f, v)
        else:
            if np.isnan(values).any():
                row = int(np.argmax(np.isnan(values)))
                raise NumberError(f"`{shown}` row {row + 2}: the value is NaN (not a number)", self.where,
                                  "give a number, or leave the row out and declare `default:`")
            self.values[flat] = values
            self.kinds.add("number")
        self.present[flat] = True

    def _csv_code(self, text: str) -> int:
        member = _csv_member(text)
        if isinstance(member, int) and abs(member) >= 2**61:
            return -1  # no set holds it: reported as a key outside the sets
        return self.codec.encode(member)

    def result(self, default: Any) -> ParamData:
        if len(self.kinds) > 1:
            raise FormulationError("mixes numbers and members", self.where, "give numbers, or members, not both")
        is_member = self.kinds == {"member"} or (not self.kinds and isinstance(default, str))
        if is_member:
            d = self.codec.encode(default) if default is not None else None
            return ParamData(self.name, self.domain, self.codes, self.present, True, d)
        if isinstance(default, str):
            number = _number(default)
            if number is None:
                raise FormulationError(f"default `{default}` is not a number", self.where, "give a number")
            default = number
        if default is not None:
            default = data_number(default, self.where + " default")
        return ParamData(self.name, self.domain, self.values, self.present, False, default)


def data_number(value: Any, where: str) -> float:
    """A number of the data as a float: NaN, booleans and integers too large for a float are errors.

    An infinity is allowed (`.inf` for an uncapacitated arc); overflowing literals are refused at load.
    """
    if isinstance(value, bool):
        raise NumberError(f"value `{value}` is a boolean, not a number", where, "write 1 or 0")
    try:
        number = float(value)
    except OverflowError:
        raise NumberError(f"an integer of {len(str(abs(int(value))))} digits is too large for a number", where,
                          "write a smaller number") from None
    if number != number:
        raise NumberError("a value is NaN (not a number)", where,
                          "give a number (or leave the entry out and declare `default:`)")
    return number


def _comprehension_text(tree: ast.expr) -> str:
    """`{(d, t) for ...}`: a comprehension shortened to its element and its first clause keyword."""
    if isinstance(tree, ast.DictComp):
        return f"{{{ast.unparse(tree.key)}: ... for ...}}"
    if isinstance(tree, ast.SetComp | ast.ListComp | ast.GeneratorExp):
        return f"{{{ast.unparse(tree.elt)} for ...}}"
    return ast.unparse(tree)


def _path_text(path: tuple) -> str:
    return "(" + ", ".join(str(p) for p in path) + ")"


def _csv_member(text: str) -> Any:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return text


def _number(text: Any) -> float | None:
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str):
        return None
    t = text.strip().lower()
    if t in ("inf", ".inf", "+inf", "infinity"):
        return float("inf")
    if t in ("-inf", "-.inf", "-infinity"):
        return float("-inf")
    try:
        return float(t.replace(",", "")) if t and (t[0].isdigit() or t[0] in "+-.") else None
    except ValueError:
        return None


def build_parameter(ev: Evaluator, name: str, spec: Any, sets: dict[str, SetData], base_dir: Path | None) -> ParamData:
    """A parameter from its declaration: a number, a derived expression, or a table."""
    where = f"parameter `{name}`"
    codec = ev.codec
    if isinstance(spec, bool):
        raise FormulationError(f"value `{spec}` is a boolean", where, "write 1 or 0")
    if isinstance(spec, int | float):
        return ParamData(name, Domain([]), np.array([data_number(spec, where)]), np.array([True]))
    if isinstance(spec, str):
        number = _number(spec)
        if number is not None:
            return ParamData(name, Domain([]), np.array([data_number(number, where)]), np.array([True]))
        return derived_parameter(ev, name, spec)
    assert isinstance(spec, Parameter)
    index = spec.index or []
    domain_sets = []
    for set_name in index:
        if set_name not in sets:
            s = ev.ctx.get_set(set_name)
            if s is None:
                from formulate.errors import did_you_mean

                hint = did_you_mean(set_name, list(sets) + ev.ctx.all_names())
                raise FormulationError(f"index set `{set_name}` is not defined", where,
                                       hint or "declare it under `sets`")
            sets[set_name] = s
        domain_sets.append(sets[set_name])
    domain = Domain(domain_sets)
    builder = TableBuilder(name, domain, codec)
    if spec.file is not None:
        if spec.values is not None:
            raise FormulationError("gives both `values` and `file`", where, "keep one")
        path = resolve_data_file(str(spec.file), base_dir, where)
        data = read_data_file(path, str(spec.file), where)
        if path.suffix.lower() == ".npy":
            builder.fill_npy(data, str(spec.file))
        else:
            builder.fill_csv(data, str(spec.file))
    elif not index:
        if spec.values is None:
            raise FormulationError("has no `values`", where, "give `values:` or a number")
        builder.put(0, spec.values)
    elif spec.values is not None:
        builder.fill(spec.values)
    elif spec.default is None:
        raise FormulationError("has neither `values`, `file` nor `default`", where, "give `values:`")
    return builder.result(spec.default)


def _key_sets(ev: Evaluator, tree: ast.DictComp, expanded: Table) -> list[SetData]:
    """The index sets of a dict comprehension's key: each name bound to a plain set gives that set, and the
    names of a tuple target `for (i, j) in Arcs`, in order, give the tuple set `Arcs`."""
    key = tree.key
    elts = key.elts if isinstance(key, ast.Tuple) else [key]
    if not all(isinstance(e, ast.Name) for e in elts):
        return []
    names = [e.id for e in elts]  # type: ignore[attr-defined]
    tuple_targets: dict[str, tuple[list[str], SetData]] = {}
    for gen in tree.generators:
        if isinstance(gen.target, ast.Tuple) and isinstance(gen.iter, ast.Name) and \
                all(isinstance(e, ast.Name) for e in gen.target.elts):
            s = ev.ctx.get_set(gen.iter.id)
            parts = [e.id for e in gen.target.elts]  # type: ignore[attr-defined]
            if s is not None and s.arity == len(parts):
                tuple_targets[parts[0]] = (parts, s)
    sets: list[SetData] = []
    k = 0
    while k < len(names):
        target = tuple_targets.get(names[k])
        if target is not None and names[k:k + len(target[0])] == target[0]:
            sets.append(target[1])
            k += len(target[0])
            continue
        bound = expanded.binds.get(names[k])
        if bound is None or bound.set is None:
            return []
        sets.append(bound.set)
        k += 1
    return sets


def derived_parameter(ev: Evaluator, name: str, text: str) -> ParamData:
    """A quoted data expression: a scalar, or a dict comprehension over sets."""
    where = f"parameter `{name}`"
    tree = parse_expression(text, where)
    one = Table(1)
    if isinstance(tree, ast.SetComp | ast.ListComp | ast.GeneratorExp) or \
            (isinstance(tree, ast.Call) and getattr(tree.func, "id", "") == "range"):
        shown = _comprehension_text(tree)
        raise FormulationError(f"`{shown}` builds a set; move it under `sets:`", where,
                               "a keyed comprehension `{p: ... for p in P}` is what builds a parameter")
    if isinstance(tree, ast.DictComp):
        expanded, _ = ev.expand(tree.generators, one)
        key = ev.eval(tree.key, expanded)
        mem = key if isinstance(key, Mem) else ev.to_codes(key, tree.key, expanded)
        sets = _key_sets(ev, tree, expanded)
        if not sets:
            raise FormulationError(f"cannot tell the index sets of `{text}`", where,
                                   "write keys as loop names bound to sets, e.g. `{p: ... for p in P}` or "
                                   "`{(i, j): ... for (i, j) in Arcs}`")
        domain = Domain(sets)
        check_elements(domain.size, f"the table over [{domain.names()}]", where)
        value = ev.eval(tree.value, expanded)
        flat = domain.flat_positions(mem.components(), [])
        present = np.zeros(domain.size, dtype=bool)
        present[flat] = True
        if isinstance(value, Mem):
            codes = np.zeros(domain.size, dtype=np.int64)
            codes[flat] = value.codes
            return ParamData(name, domain, codes, present, True)
        data = ev.to_data(value, tree.value, expanded).v.astype(float)
        values = np.zeros(domain.size)
        values[flat] = data
        return ParamData(name, domain, values, present)
    if isinstance(tree, ast.Name) and ev.ctx.get_param(tree.id) is None and ev.ctx.get_set(tree.id) is None \
            and ev.ctx.get_var(tree.id) is None:
        return ParamData(name, Domain([]), np.array([ev.codec.encode(text.strip())]), np.array([True]), True)
    try:
        value = ev.eval(tree, one)
    except FormulationError as exc:
        raise exc.at(where) from None
    if isinstance(value, Mem):
        return ParamData(name, Domain([]), value.codes[:1].copy(), np.array([True]), True)
    if not isinstance(value, Data):
        raise FormulationError(f"`{text}` depends on variables", where,
                               "parameters are data: compute them from sets and other parameters only")
    return ParamData(name, Domain([]), value.v[:1].astype(float), np.array([True]))
