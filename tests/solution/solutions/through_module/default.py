"""rnn_forward reaching its cell through a default argument, which no swap can follow."""

from solution import _through_a_default as rnn_forward  # noqa: F401
