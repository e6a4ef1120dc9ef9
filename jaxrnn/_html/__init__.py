"""jaxrnn's reports as pages: one self-contained HTML file (no scripts, fonts, styles or
pictures fetched from anywhere), its equations in MathML, its pictures inline SVG.

The reports build their pages from these pieces: the solution report
(:mod:`jaxrnn.solution`), the gradient checker's (:mod:`jaxrnn.gradcheck`) and the
self-report of ``jaxrnn check``; :mod:`~jaxrnn._html.pictures` draws what they show.
"""

from __future__ import annotations

import html

from jaxrnn._core.equations import as_mathml

#: the page's only style: system fonts, a narrow column, marks that are symbols and words
STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b;
       max-width: 64rem; margin: 1.5rem auto; padding: 0 1rem; }
h1 { font-size: 1.45rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 0.3rem; }
section.exercise { border-top: 1px solid #ccc; }
.right { color: #1a6b2c; } .wrong { color: #a3201b; } .unsure { color: #8a5a00; }
.mark { font-weight: 600; }
pre { background: #f6f6f4; padding: 0.6rem 0.8rem; overflow-x: auto; font-size: 13px;
      line-height: 1.35; border-radius: 4px; }
pre.code span.line { display: block; } pre.code span.marked { background: #ffe7a8; }
pre.code span.number { color: #777; user-select: none; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 14px; }
td, th { border-bottom: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: left;
         vertical-align: top; }
math[display="block"] { margin: 0.4rem 0; font-size: 1.1em; }
.equation { display: flex; align-items: baseline; gap: 1rem; flex-wrap: wrap; }
figure { margin: 0.8rem 0; } figcaption { font-size: 13px; color: #555; }
figure svg { max-width: 100%; height: auto; }
.note { color: #555; font-size: 14px; }
"""

#: what each verdict is marked with: a symbol and a word, never colour alone
MARKS = {
    "right": ("✓", "right"),
    "wrong": ("✗", "wrong"),
    "unsure": ("?", "undecided"),
    "unchecked": ("–", "not checked"),
}


def escape(text) -> str:
    return html.escape(str(text), quote=True)


def document(title: str, body: str) -> str:
    """A whole page: ``body`` under ``title``, with the style above and nothing fetched."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # nothing may be fetched: the page opens from a file on a machine without a network
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>\n"
        f"<body>\n{body}\n</body></html>\n"
    )


def fragment(body: str) -> str:
    """``body`` with the style, for a notebook's rich output (``_repr_html_``)."""
    return f'<div class="jaxrnn-report"><style>{STYLE}</style>{body}</div>'


def mark(kind: str) -> str:
    """A verdict's mark: ``✓ right``, ``✗ wrong``..., in the verdict's colour."""
    symbol, word = MARKS[kind]
    return f'<span class="mark {kind}" title="{word}">{symbol} {word}</span>'


def equation(latex: str, number: str) -> str:
    """One equation, rendered by the browser (MathML), with its number."""
    return (
        f'<div class="equation" data-equation="{escape(number)}">{as_mathml(latex, number)}</div>'
    )


def code(first_line: int, lines: list[str], marked=(), where: str = "") -> str:
    """Lines of a learner's code, numbered as in their file, the ``marked`` ones highlighted."""
    width = len(str(first_line + len(lines) - 1))
    rows = []
    for number, line in enumerate(lines, first_line):
        kind = "line marked" if number in marked else "line"
        rows.append(
            f'<span class="{kind}"><span class="number">{number:>{width}}  </span>'
            f"{escape(line) or ' '}</span>"
        )
    caption = f'<div class="note">{escape(where)}</div>' if where else ""
    return f'{caption}<pre class="code">{"".join(rows)}</pre>'


def table(head, rows) -> str:
    """A table of already-escaped cells."""
    top = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{top}</tr></thead><tbody>{body}</tbody></table>"


def figure(svg: str | None, caption: str) -> str:
    """A picture with its caption; nothing where it could not be drawn."""
    if svg is None:
        return ""
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def preformatted(text: str) -> str:
    return f"<pre>{escape(text)}</pre>"


__all__: list[str] = []
