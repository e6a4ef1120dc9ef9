"""Each cell's equations are written once, in its module's docstring: what the grader cites
and the page renders is read from there, and every equation number the code names is one of
them."""

import re
import xml.etree.ElementTree as ElementTree

import pytest

from jaxrnn._core.equations import as_mathml, as_text, equations
from jaxrnn.cells import gru, gru_reset_after, lstm, rnn

MODULES = {"rnn": rnn, "lstm": lstm, "gru": gru, "gru_reset_after": gru_reset_after}
#: how many equations each document (and derivation) numbers, with the prediction
COUNTS = {"rnn": 9, "lstm": 22, "gru": 19, "gru_reset_after": 20}


@pytest.mark.parametrize("name", list(MODULES))
def test_every_equation_the_code_names_is_in_the_docstring(name):
    module = MODULES[name]
    assert len(module.EQUATIONS) == COUNTS[name]
    source = open(module.__file__).read().split('"""', 2)[2]  # the code, after the docstring
    cited = set(re.findall(r"#[^\n]*?(\((?:[GR])?\d+\))", source))
    cited |= {n for line in re.findall(r"# eqs?\. [^\n]*", source)
              for n in re.findall(r"\((?:[GR])?\d+\)", line)}  # fmt: skip
    assert cited and cited <= set(module.EQUATIONS), cited - set(module.EQUATIONS)
    for outputs in getattr(module, "EQUATIONS_OF", {}).values():
        assert set(outputs) <= set(module.EQUATIONS)


@pytest.mark.parametrize("name", list(MODULES))
def test_every_equation_reads_as_text_and_as_mathml(name):
    for key, latex in MODULES[name].EQUATIONS.items():
        text = as_text(latex)
        assert "\\" not in text and "{" not in text and "=" in text, (key, text)
        math = ElementTree.fromstring(as_mathml(latex, key))  # well-formed
        # a script element takes exactly its base and its scripts, or a browser misplaces them
        arity = {"msup": 2, "msub": 2, "msubsup": 3, "mfrac": 2, "mover": 2}
        for element in math.iter():
            if element.tag in arity:
                assert len(element) == arity[element.tag], (key, ElementTree.tostring(element))


def test_the_documents_forms_as_text():
    assert as_text(lstm.EQUATIONS["(10)"]) == (
        "dγ_f⟨t⟩ = (dc_next * c_prev + Γ_o⟨t⟩ * (1 - tanh²(c_next)) * c_prev * da_next) "
        "* Γ_f⟨t⟩ * (1 - Γ_f⟨t⟩)"
    )
    assert as_text(lstm.EQUATIONS["(11)"]) == "dW_f = dγ_f⟨t⟩ [a_prev; x_t]ᵀ"
    assert as_text(rnn.EQUATIONS["(4)"]) == "dW_ax = dtanh · x⟨t⟩ᵀ"
    assert as_text(rnn.EQUATIONS["(2)"]) == "∂tanh(x)/∂x = 1 - tanh²(x)"
    assert as_text(rnn.EQUATIONS["(6)"]) == "db_a = Σ_batch dtanh"


def test_an_equation_may_run_over_lines_and_ends_with_its_tag():
    doc = r"""Text.

    .. math::
        a = b
            + c \tag{1}

        d = e \tag{prediction}

    More text, with \tag{9} outside the block.
    """
    assert equations(doc) == {"(1)": "a = b + c", "prediction": "d = e"}
