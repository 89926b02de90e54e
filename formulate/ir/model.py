"""The Formulation: the pydantic v2 model every stage reads (design §2, language.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, RootModel, field_validator

Number = int | float
Bound = Number | str | None

PARAMETER_KEYS = ("index", "values", "default", "file", "description")
VARIABLE_KEYS = ("index", "type", "lower", "upper", "description")
OBJECTIVE_KEYS = ("sense", "expr", "priority", "weight", "description")
CONSTRAINT_KEYS = ("forall", "expr", "when", "either", "description")
TOP_LEVEL_KEYS = (
    "name", "description", "problem", "meta", "sets", "parameters", "variables", "objective", "constraints",
)

_SENSE_ALIASES = {"min": "minimize", "minimise": "minimize", "max": "maximize", "maximise": "maximize"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="constants")


def _no_bool(value: Any) -> Any:
    """A boolean where a number belongs is an error (pydantic would read `true` as 1)."""
    if isinstance(value, bool):
        raise ValueError(f"`{str(value).lower()}` is a boolean, not a number; write 1 or 0")
    return value


class Parameter(_Strict):
    """An indexed (or file-backed) table of data."""

    index: list[str] | None = Field(None, description="sets the table is indexed by, in order")
    values: Any = Field(None, description="mapping by member, nested mappings, or (nested) lists in set order")
    default: Number | str | None = Field(None, description="value of entries that are not given")
    file: str | None = Field(None, description="CSV with one column per index set and a `value` column, or a .npy array shaped like the index sets")
    description: str | None = None

    @field_validator("index", mode="before")
    @classmethod
    def _one_index(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("default", mode="before")
    @classmethod
    def _default_not_bool(cls, value: Any) -> Any:
        return _no_bool(value)


class Variable(_Strict):
    """A scalar or indexed decision variable."""

    index: list[str] | None = Field(None, description="sets the variable is indexed by")
    type: Literal["continuous", "integer", "binary"] = "continuous"
    lower: Bound = Field(0, description="number, inf, -inf (free) or a parameter name; default 0")
    upper: Bound = Field(None, description="number, inf or a parameter name; default +inf (1 for binary)")
    description: str | None = None

    @field_validator("index", mode="before")
    @classmethod
    def _one_index(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("lower", "upper", mode="before")
    @classmethod
    def _bound_not_bool(cls, value: Any) -> Any:
        return _no_bool(value)

    @field_validator("type", mode="before")
    @classmethod
    def _type_aliases(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return {"int": "integer", "bin": "binary", "real": "continuous", "float": "continuous",
                    "continous": "continuous", "bool": "binary", "boolean": "binary"}.get(value, value)
        return value


class Objective(_Strict):
    """What to optimise."""

    sense: Literal["minimize", "maximize"]
    expr: str
    priority: int | None = Field(None, description="several objectives: higher priority is optimised first")
    weight: Number | None = Field(None, description="several objectives of equal priority are summed with weights")
    description: str | None = None

    @field_validator("sense", mode="before")
    @classmethod
    def _sense_aliases(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return _SENSE_ALIASES.get(value, value)
        return value

    @field_validator("expr", mode="before")
    @classmethod
    def _expr_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value


class Objectives(RootModel[list[Objective]]):
    """Several objectives: lexicographic by ``priority`` (highest first), summed by ``weight`` within one.

    ``sense``, ``expr`` and ``description`` are those of the first objective of the highest priority, so code
    that reads one objective sees the primary one.
    """

    @field_validator("root")
    @classmethod
    def _not_empty(cls, value: list[Objective]) -> list[Objective]:
        if not value:
            raise ValueError("give at least one objective")
        return value

    @property
    def levels(self) -> list[Objective]:
        return self.root

    @property
    def primary(self) -> Objective:
        top = max(o.priority or 0 for o in self.root)
        return next(o for o in self.root if (o.priority or 0) == top)

    @property
    def sense(self) -> str:
        return self.primary.sense

    @property
    def expr(self) -> str:
        return self.primary.expr

    @property
    def description(self) -> str | None:
        return self.primary.description


class Constraint(_Strict):
    """A named constraint: one row, or one row per binding of ``forall``."""

    forall: str | None = Field(None, description="comprehension clause, e.g. `i in I, j in J if i != j`")
    expr: str | None = Field(None, description="a comparison, e.g. `sum(x[i, j] for j in J) <= cap[i]`")
    when: str | None = Field(None, description="binary variable (or `not` one) under which the row holds")
    either: list[str] | None = Field(None, description="alternatives of which at least one holds")
    description: str | None = None


class Formulation(_Strict):
    """A complete optimisation model in the formulate language."""

    name: str = "model"
    description: str | None = None
    problem: str | None = Field(None, description="the source problem text")
    meta: dict[str, Any] = Field(default_factory=dict)
    sets: dict[str, Any] = Field(default_factory=dict, description="list, range(a, b) or quoted comprehension")
    parameters: dict[str, Number | str | Parameter] = Field(default_factory=dict)
    variables: dict[str, Variable] = Field(default_factory=dict)
    objective: Objective | Objectives | None = Field(
        None, description="one objective, or a list of them with `priority` (lexicographic) and `weight`")
    constraints: dict[str, str | Constraint] = Field(default_factory=dict)
    #: the folder `file:` tables may be read from (set by load() and data_dir=, never by the document)
    _data_dir: str | None = PrivateAttr(None)

    @field_validator("sets", "parameters", "variables", "constraints", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("parameters", mode="before")
    @classmethod
    def _parameters_not_bool(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for name, item in value.items():
                if isinstance(item, bool):
                    raise ValueError(f"parameter `{name}` is `{str(item).lower()}`, a boolean, not a number; "
                                     "write 1 or 0")
        return value

    def objectives(self) -> list[Objective]:
        """Every objective, in the order written (one for a single objective, none without one)."""
        if self.objective is None:
            return []
        return self.objective.levels if isinstance(self.objective, Objectives) else [self.objective]

    def constraint(self, name: str) -> Constraint:
        """The constraint ``name`` in block form (a one-line string becomes ``expr``)."""
        item = self.constraints[name]
        return Constraint(expr=item) if isinstance(item, str) else item

    def to_dict(self) -> dict[str, Any]:
        """Plain data, without unset/None entries, in the order of the language reference."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
