"""Every one of the eight exercises wrong, each output off by 1%: the largest report page
(tests/solution/test_page.py, benchmarks/report_page.py)."""

import correct


def _off(value):
    if isinstance(value, dict):
        return {k: v * 1.01 for k, v in value.items()}
    return value * 1.01


def rnn_cell_forward(xt, a_prev, parameters):
    a_next, yt_pred, cache = correct.rnn_cell_forward(xt, a_prev, parameters)
    return _off(a_next), _off(yt_pred), cache


def rnn_forward(x, a0, parameters):
    a, y_pred, caches = correct.rnn_forward(x, a0, parameters)
    return _off(a), _off(y_pred), caches


def lstm_cell_forward(xt, a_prev, c_prev, parameters):
    a_next, c_next, yt_pred, cache = correct.lstm_cell_forward(xt, a_prev, c_prev, parameters)
    return _off(a_next), _off(c_next), _off(yt_pred), cache


def lstm_forward(x, a0, parameters):
    a, y, c, caches = correct.lstm_forward(x, a0, parameters)
    return _off(a), _off(y), _off(c), caches


def rnn_cell_backward(da_next, cache):
    return _off(correct.rnn_cell_backward(da_next, cache))


def rnn_backward(da, caches):
    return _off(correct.rnn_backward(da, caches))


def lstm_cell_backward(da_next, dc_next, cache):
    return _off(correct.lstm_cell_backward(da_next, dc_next, cache))


def lstm_backward(da, caches):
    return _off(correct.lstm_backward(da, caches))
