"""The formulation as HTML with MathML: the project's LaTeX renderer, converted by latex2mathml.

Works offline (no MathJax, no fonts from the network); modern browsers render MathML natively.
Constraint and variable items carry ``data-name`` so an IIS can be highlighted: a constraint group is
marked when its name or one of its rows (``demand[chair]``) is in the set, a variable when a bound on it is.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from formulate.errors import FormulateError

if TYPE_CHECKING:
    from formulate.ir.model import Formulation

_SECTION = re.compile(r"\\subsection\*\{([^}]*)\}")
_ITEM = re.compile(r"^\s*\\item (.*)$")
_BOLD = re.compile(r"^\\textbf\{((?:[^{}\\]|\\.)*)\}: ")
_MATH = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$")
_LETTERS = re.compile(r'(?:<mi mathvariant="normal">[^<]{1,10}</mi>){2,}')
_LETTER = re.compile(r'<mi mathvariant="normal">([^<]{1,10})</mi>')
_UNESCAPE = (("\\textbackslash{}", "\\"), ("\\_", "_"), ("\\%", "%"), ("\\&", "&"), ("\\#", "#"), ("\\$", "$"),
             ("\\{", "{"), ("\\}", "}"))


def formulation_html(formulation: Formulation, highlight: list[str] | tuple[str, ...] = ()) -> str:
    """Sections (sets, parameters, variables, objective, constraints) as HTML lists with inline MathML."""
    from formulate.ir.render import render

    try:
        from latex2mathml.converter import convert  # noqa: F401
    except ImportError as exc:
        raise FormulateError("rendering math needs latex2mathml: pip install 'formulate-opt[web]'") from exc
    latex = render(formulation, "latex")
    marked = _marked_names(highlight)
    names = {"Variables": list(formulation.variables), "Constraints": list(formulation.constraints)}
    out: list[str] = [f'<div class="formulation"><h3>{html.escape(formulation.name)}</h3>']
    section = ""
    index = 0
    for line in latex.splitlines():
        head = _SECTION.match(line.strip())
        if head:
            if section:
                out.append("</ul></section>")
            section = head.group(1)
            index = 0
            out.append(f'<section data-section="{html.escape(section.lower())}"><h4>{html.escape(section)}</h4><ul>')
            continue
        item = _ITEM.match(line)
        if not item or not section:
            continue
        own = names.get(section, [])
        name = own[index] if index < len(own) else None
        index += 1
        attrs = ""
        if name is not None:
            attrs = f' data-name="{html.escape(name)}"'
            if name in marked:
                attrs += ' class="iis" title="part of the irreducible infeasible set"'
        out.append(f"<li{attrs}>{_item_html(item.group(1))}</li>")
    if section:
        out.append("</ul></section>")
    out.append("</div>")
    return "".join(out)


def _marked_names(highlight: list[str] | tuple[str, ...]) -> set[str]:
    """IIS entries -> the group or variable names they belong to (`demand[chair]`, `x[a] <= 4` -> demand, x)."""
    marked = set()
    for entry in highlight:
        head = re.split(r"[\[\s<>=]", entry.strip(), maxsplit=1)[0]
        if head:
            marked.add(head)
    return marked


def _item_html(text: str) -> str:
    """One LaTeX list item -> HTML: `\\textbf{name}: ` as a label, `$...$` as MathML, the rest as text."""
    from latex2mathml.converter import convert

    parts: list[str] = []
    bold = _BOLD.match(text)
    if bold:
        parts.append(f'<b class="label">{html.escape(_plain(bold.group(1)))}</b> ')
        text = text[bold.end():]
    position = 0
    for match in _MATH.finditer(text):
        parts.append(_text_html(text[position:match.start()]))
        try:
            parts.append(_words(convert(match.group(1))))
        except Exception:  # latex2mathml raises plain exceptions on constructs it lacks; show the source
            parts.append(f"<code>{html.escape(match.group(1))}</code>")
        position = match.end()
    parts.append(_text_html(text[position:]))
    return "".join(parts)


def _plain(text: str) -> str:
    for a, b in _UNESCAPE:
        text = text.replace(a, b)
    return text


def _text_html(text: str) -> str:
    if not text:
        return ""
    text = _plain(text)
    if text.startswith(": "):
        return f'<span class="note">: {html.escape(text[2:])}</span>'
    return html.escape(text)


def _words(mathml: str) -> str:
    """latex2mathml spells `\\mathrm{profit}` one <mi> a letter; join the run into one identifier."""
    return _LETTERS.sub(lambda m: '<mi mathvariant="normal">' + "".join(_LETTER.findall(m.group(0))) + "</mi>", mathml)
