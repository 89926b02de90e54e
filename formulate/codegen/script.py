"""Assemble an exported script: docstring, imports, data, helpers, model, solve and report.

Every target's script has the same shape and prints the same way (`status:`, `objective:`, then
`x[chair] = 3` lines; `--json` prints one object), so results can be compared across targets.
"""

from __future__ import annotations

from formulate.codegen.body import Target, constraint_lines, objective_lines, variable_spec
from formulate.codegen.common import ScriptContext
from formulate.codegen.data import data_lines
from formulate.codegen.helpers import GENERIC, REPORT, SET_HELPERS, needed

RULE = "# " + "-" * 98


class ScriptTarget(Target):
    """A target that emits a Python script; subclasses fill in the solver-specific parts."""

    label = ""  # e.g. "Pyomo (HiGHS / SCIP)"
    import_lines: tuple[str, ...] = ()

    def primitives(self, ctx: ScriptContext) -> dict[str, tuple[str, tuple[str, ...]]]:
        """Target helpers (name -> source, helpers it calls); may override generic ones."""
        return {}

    def helper_imports(self, used: list[str]) -> list[str]:
        return []

    def variables_line(self, ctx: ScriptContext) -> str:
        items = ", ".join(f'"{name}": {ctx.py(name)}' for name in ctx.formulation.variables)
        return f"VARIABLES = {{{items}}}"

    def solve_code(self, ctx: ScriptContext) -> str:
        raise NotImplementedError

    # ------------------------------------------------------------ assembly
    def generate(self, ctx: ScriptContext) -> str:
        self.check(ctx)
        data = data_lines(ctx)
        model = list(self.model_body(ctx))
        text = "\n".join(data + model)
        available = {**self.primitives(ctx)}
        for name, entry in GENERIC.items():
            available.setdefault(name, entry)
        used = needed(text, available)
        set_helpers = [n for n in used if n in SET_HELPERS]
        helper_text = "\n\n\n".join(available[n][0].strip("\n") for n in used
                                     if available[n][0].strip() and n not in SET_HELPERS)
        set_helper_text = "\n\n\n".join(available[n][0].strip("\n") for n in set_helpers)
        solve = self.solve_code(ctx)
        imports = ["import json"]
        if "math." in text + helper_text + set_helper_text:
            imports.append("import math")
        if "re." in helper_text:
            imports.append("import re")
        imports.append("import sys")
        extra = sorted(set(self.import_lines) | set(self.helper_imports(used)),
                       key=lambda line: (line.startswith("from "), line))
        head = "\n\n".join([self.docstring(ctx), "\n".join(imports) + ("\n\n" + "\n".join(extra) if extra else ""),
                              'INF = float("inf")'])
        parts = [head]
        if set_helper_text:
            parts.append(f"{RULE}\n# set helpers\n{RULE}\n" + set_helper_text)
        parts.append(f"{RULE}\n# data\n{RULE}\n" + "\n".join(data) if data else "")
        if helper_text:
            parts.append(f"{RULE}\n# helpers\n{RULE}\n" + helper_text)
        parts.append(f"{RULE}\n# model\n{RULE}\n" + "\n".join(model))
        parts.append(f"{RULE}\n# solve and report\n{RULE}\n" + solve.strip("\n"))
        parts.append(REPORT.strip("\n"))
        return "\n\n\n".join(p for p in parts if p).rstrip() + "\n"

    def model_body(self, ctx: ScriptContext):
        yield from self.model_init(ctx)
        for name in ctx.formulation.variables:
            yield ""
            yield from self.declare_variable(ctx, variable_spec(ctx, name))
        yield ""
        yield from objective_lines(ctx, self)
        for name in ctx.formulation.constraints:
            yield ""
            yield from constraint_lines(ctx, self, name)
        yield ""
        yield self.variables_line(ctx)

    def docstring(self, ctx: ScriptContext) -> str:
        f = ctx.formulation
        lines = [f"{ctx.title}: exported by formulate for {self.label}."]
        if f.description:
            lines += ["", _escape(f.description.strip())]
        if f.problem:
            lines += ["", "Problem:"] + ["    " + line if line else "" for line in _escape(f.problem).splitlines()]
        lines += ["", "Run `python this_file.py` to solve and print `status:`, `objective:` and the nonzero",
                  "variables (`x[chair] = 3`), or `python this_file.py --json` for one JSON object",
                  '{"status", "objective", "values"}.']
        return '"""' + "\n".join(lines).rstrip() + '\n"""'


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', "'''").rstrip()
