r"""A cell's equations, read from the one place they are written: its module's docstring.

A cell module's docstring holds its forward and its hand-derived backward in a ``.. math::``
block, one equation a line, each numbered as the documents number it, ``\tag{10}`` (Sphinx
renders the block; Flax's ``LSTMCell`` docstring is the model). :func:`equations` reads them
off, ``{"(10)": latex}``; the grader cites them as text (:func:`as_text`), the report page
shows them as MathML (:func:`as_mathml`), and nobody types them a second time.

The LaTeX is the documents' own subset: letters, Greek letters, ``\tanh`` and the like,
``^`` and ``_``, ``\langle t \rangle``, ``\tilde``/``\widetilde``, ``\hat``, ``\frac``,
``\sum``, ``\left( \right)``, ``\begin{bmatrix}``, ``\mathbf``/``\mathrm``/``\text``.

>>> as_text(r"d\gamma_f^{\langle t \rangle} = dc_{next} * \left(1 - \tanh^2(c_{next})\right)")
'dγ_f⟨t⟩ = dc_next * (1 - tanh²(c_next))'
"""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"\\tag\{([^}]*)\}")
_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|[{}^_&]|\s+|.", re.S)

#: commands that are a symbol, as text
_SYMBOLS = {
    "Gamma": "Γ", "gamma": "γ", "sigma": "σ", "delta": "δ", "partial": "∂", "alpha": "α",
    "beta": "β", "lambda": "λ", "theta": "θ", "nu": "ν", "mu": "μ", "epsilon": "ε",
    "langle": "⟨", "rangle": "⟩", "cdot": "·", "odot": "⊙", "times": "×", "top": "ᵀ",
    "sum": "Σ", "infty": "∞", "le": "≤", "ge": "≥", "neq": "≠", "approx": "≈", "in": "∈",
    "to": "→", "ldots": "…", "prime": "′", "Re": "Re",
}  # fmt: skip
#: commands that are a function's name
_FUNCTIONS = {"tanh", "exp", "log", "sin", "cos", "max", "min"}
#: commands whose argument is shown as it is
_STYLES = {"mathbf", "mathrm", "textrm", "text", "boldsymbol", "mathit", "operatorname"}
#: commands that are nothing, or space
_SPACES = {",": " ", ";": " ", " ": " ", "quad": " ", "qquad": " ", "!": "", "left": "",
           "right": "", "displaystyle": "", "big": "", "Big": ""}  # fmt: skip
_SUPERSCRIPTS = str.maketrans("0123456789+-()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁽⁾")
_ACCENTS = {"tilde": "\u0303", "widetilde": "\u0303", "hat": "\u0302", "widehat": "\u0302",
            "bar": "\u0304", "overline": "\u0304"}  # fmt: skip


def equations(docstring: str) -> dict[str, str]:
    r"""Every tagged equation of the docstring's ``.. math::`` blocks: ``{"(7)": latex}``, in
    order. An equation may run over several lines; it ends with its tag. A tag of a word
    (``\tag{prediction}``) is its key as it is."""
    found, pending, block = {}, [], None
    for line in (docstring or "").splitlines():
        indent = len(line) - len(line.lstrip())
        if line.strip() == ".. math::":
            block, pending = indent, []
            continue
        if block is None or (line.strip() and indent <= block):
            block = None if block is not None and line.strip() else block
            continue
        pending.append(line.strip())
        tag = _TAG.search(line)
        if tag is None:
            continue
        latex = _TAG.sub("", " ".join(pending)).replace("&", "").strip()
        latex = latex.removesuffix("\\\\").strip()
        key = tag.group(1).strip()
        found[key if key.isalpha() and len(key) > 1 else f"({key})"] = latex
        pending = []
    return found


# ---------------------------------------------------------------------------------- parsing


def _tokens(latex: str) -> list[str]:
    return _TOKEN.findall(latex)


def _parse(tokens: list[str], i: int = 0, until: str | None = None) -> tuple[list, int]:
    """A list of nodes: strings (a character, a command) and ``("group", nodes)``,
    ``("sup", base, nodes)``, ``("sub", base, nodes)``, ``("cmd", name, args)``,
    ``("matrix", rows)``; up to ``until``."""
    nodes = []
    while i < len(tokens):
        token = tokens[i]
        if token == until:
            return nodes, i + 1
        if token == "{":
            group, i = _parse(tokens, i + 1, "}")
            nodes.append(("group", group))
            continue
        if token in ("^", "_"):
            argument, i = _argument(tokens, i + 1)
            base = nodes.pop() if nodes else ("group", [])
            if token == "^" and isinstance(base, tuple) and base[0] == "sub":
                nodes.append(("subsup", base[1], base[2], argument))
            elif token == "_" and isinstance(base, tuple) and base[0] == "sup":
                nodes.append(("subsup", base[1], argument, base[2]))
            else:
                nodes.append(("sup" if token == "^" else "sub", base, argument))
            continue
        if token == r"\begin":
            _, i = _argument(tokens, i + 1)  # the environment: a matrix
            body, i = _until_end(tokens, i)
            nodes.append(("matrix", body))
            continue
        if token.startswith("\\") and token[1:] in (*_ACCENTS, *_STYLES, "frac"):
            name = token[1:]
            count = 2 if name == "frac" else 1
            args = []
            i += 1
            for _ in range(count):
                argument, i = _argument(tokens, i)
                args.append(argument)
            nodes.append(("cmd", name, args))
            continue
        nodes.append(token)
        i += 1
    return nodes, i


def _argument(tokens, i) -> tuple[list, int]:
    """The next argument: a ``{group}`` or one token (skipping space)."""
    while i < len(tokens) and tokens[i].isspace():
        i += 1
    if i >= len(tokens):
        return [], i
    if tokens[i] == "{":
        return _parse(tokens, i + 1, "}")
    return [tokens[i]], i + 1


def _until_end(tokens, i) -> tuple[list, int]:
    """A matrix's rows of cells, up to ``\\end{...}``."""
    rows, depth = [[]], 0
    start = i
    while i < len(tokens):
        token = tokens[i]
        if token == r"\end" and depth == 0:
            rows[-1].append(_parse(tokens[start:i])[0])
            _, i = _argument(tokens, i + 1)
            return [r for r in rows if any(c for c in r)], i
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif token == r"\\" and depth == 0:
            rows[-1].append(_parse(tokens[start:i])[0])
            rows.append([])
            start = i + 1
        elif token == "&" and depth == 0:
            rows[-1].append(_parse(tokens[start:i])[0])
            start = i + 1
        i += 1
    return rows, i


def _nodes(latex: str) -> list:
    return _parse(_tokens(latex))[0]


# ------------------------------------------------------------------------------------- text


def as_text(latex: str) -> str:
    """An equation as Unicode text: ``Γf⟨t⟩``, ``tanh²``, ``W_axᵀ``, ``Σ_batch``, ``[a_prev;
    x_t]``."""
    text = re.sub(r"\s+", " ", _text(_nodes(latex)))
    text = re.sub(r"∂\s+", "∂", text)
    text = re.sub(r"\s*([+*=·⊙])\s*", r" \1 ", text)  # binary operators, spaced alike
    text = re.sub(r"(?<=[\w)²⟩])\s*-\s*(?=[\w(∂])", " - ", text)
    text = re.sub(r"⟨\s*([^⟩]*?)\s*⟩", lambda m: "⟨" + m.group(1).replace(" ", "") + "⟩", text)
    return re.sub(r"\s+", " ", text).replace("( ", "(").replace(" )", ")").strip()


def _text(nodes) -> str:
    return "".join(_text_node(n) for n in nodes)


def _text_node(node) -> str:
    if isinstance(node, str):
        if node.startswith("\\"):
            name = node[1:]
            if name in _SYMBOLS:
                return _SYMBOLS[name]
            if name in _FUNCTIONS:
                return name
            if name in _SPACES:
                return _SPACES[name]
            if name == "\\":
                return "; "
            return name
        return node
    kind = node[0]
    if kind == "group":
        return _text(node[1])
    if kind == "cmd":
        name, args = node[1], node[2]
        if name in _STYLES:
            return _text(args[0])
        if name in _ACCENTS:
            inner = _text(args[0])
            return inner + _ACCENTS[name] if len(inner) == 1 else f"{inner}{_ACCENTS[name]}"
        if name == "frac":
            return f"{_wrapped(_text(args[0]))}/{_wrapped(_text(args[1]))}"
    if kind == "sup":
        return _text_node(node[1]) + _superscript(node[2])
    if kind == "sub":
        return _text_node(node[1]) + _subscript(node[2])
    if kind == "subsup":
        return _text_node(node[1]) + _subscript(node[2]) + _superscript(node[3])
    if kind == "matrix":
        return "[" + "; ".join(", ".join(_text(cell).strip() for cell in row)
                               for row in node[1]) + "]"  # fmt: skip
    return ""


def _wrapped(text: str) -> str:
    text = re.sub(r"∂\s+", "∂", text.strip())
    return text if re.fullmatch(r"[^\s+\-*/=]+", text) else f"({text})"


def _superscript(nodes) -> str:
    text = _text(nodes).strip()
    if text in ("T", "ᵀ"):
        return "ᵀ"
    if text.startswith("⟨") and text.endswith("T"):  # x^{\langle t \rangle T}
        return text[:-1].strip() + "ᵀ"
    if text.startswith("⟨"):
        return text
    if re.fullmatch(r"[0-9+\-()]+", text):
        return text.translate(_SUPERSCRIPTS)
    return f"^{_wrapped(text)}"


def _subscript(nodes) -> str:
    text = _text(nodes).strip()
    return "_" + (text if re.fullmatch(r"\w+", text) else "[" + text.replace(" ", "") + "]")


# ---------------------------------------------------------------------------------- MathML


def as_mathml(latex: str, number: str | None = None) -> str:
    """An equation as presentation MathML, which a browser renders without scripts or fonts
    fetched from anywhere; its number after it, as the documents print it."""
    body = _ml(_nodes(latex))
    if number is not None:
        label = html.escape(number if number.startswith("(") else f"({number})")
        body += f'<mspace width="2em"/><mtext>{label}</mtext>'
    return f'<math display="block"><mrow>{body}</mrow></math>'


def _ml(nodes) -> str:
    return "".join(_ml_node(n) for n in nodes)


def _ml_node(node) -> str:
    if isinstance(node, str):
        if node.isspace():
            return ""
        if node.startswith("\\"):
            name = node[1:]
            if name in _SYMBOLS:
                symbol = _SYMBOLS[name]
                tag = "mo" if name in ("cdot", "odot", "times", "sum", "langle", "rangle", "le",
                                       "ge", "neq", "approx", "in", "to") else "mi"  # fmt: skip
                return f"<{tag}>{html.escape(symbol)}</{tag}>"
            if name in _FUNCTIONS:
                return f"<mi>{name}</mi><mo>&#x2061;</mo>"
            if name in _SPACES:
                return '<mspace width="0.3em"/>' if _SPACES[name] else ""
            if name == "\\":
                return "<mo>;</mo>"
            return f"<mi>{html.escape(name)}</mi>"
        if node.isdigit() or node == ".":
            return f"<mn>{node}</mn>"
        if node.isalpha():
            return f"<mi>{html.escape(node)}</mi>"
        return f"<mo>{html.escape(node)}</mo>"
    kind = node[0]
    if kind == "group":
        return f"<mrow>{_ml_letters(node[1])}</mrow>"
    if kind == "cmd":
        name, args = node[1], node[2]
        if name in _STYLES:
            return f"<mrow>{_ml_letters(args[0], word=name in ('text', 'textrm'))}</mrow>"
        if name in _ACCENTS:
            accent = {"\u0303": "~", "\u0302": "^", "\u0304": "¯"}[_ACCENTS[name]]
            return f'<mover accent="true"><mrow>{_ml(args[0])}</mrow><mo>{accent}</mo></mover>'
        if name == "frac":
            return f"<mfrac><mrow>{_ml(args[0])}</mrow><mrow>{_ml(args[1])}</mrow></mfrac>"
    if kind == "sup":
        return f"<msup>{_ml_base(node[1])}<mrow>{_ml_script(node[2])}</mrow></msup>"
    if kind == "sub":
        return f"<msub>{_ml_base(node[1])}<mrow>{_ml_letters(node[2])}</mrow></msub>"
    if kind == "subsup":
        return (f"<msubsup>{_ml_base(node[1])}<mrow>{_ml_letters(node[2])}</mrow>"
                f"<mrow>{_ml_script(node[3])}</mrow></msubsup>")  # fmt: skip
    if kind == "matrix":
        rows = "".join("<mtr>" + "".join(f"<mtd>{_ml(cell)}</mtd>" for cell in row) + "</mtr>"
                       for row in node[1])  # fmt: skip
        return f"<mrow><mo>[</mo><mtable>{rows}</mtable><mo>]</mo></mrow>"
    return ""


def _ml_base(node) -> str:
    """A script's base as one element, as ``msup`` and ``msub`` take it (a function's name is
    two: its identifier and the invisible function application)."""
    if isinstance(node, str) and node.isspace():
        return "<mrow/>"
    return f"<mrow>{_ml_node(node)}</mrow>"


def _ml_script(nodes) -> str:
    text = _text(nodes).strip()
    if text == "T":
        return "<mi>T</mi>"
    return _ml(nodes)


def _ml_letters(nodes, word: bool = False) -> str:
    """A subscript's (or a style's) letters as one identifier where they are one word:
    ``next``, ``prev``, ``batch``."""
    text = _text(nodes)
    if re.fullmatch(r"[A-Za-z]+", text):
        return f"<mi>{text}</mi>" if not word else f"<mtext>{text}</mtext>"
    return _ml(nodes)


__all__ = ["as_mathml", "as_text", "equations"]
