"""Functions that raise what is not an Exception: KeyboardInterrupt, and one of their own."""


class Stop(BaseException):
    pass


def rnn_cell_forward(xt, a_prev, parameters):
    raise KeyboardInterrupt


def rnn_forward(x, a0, parameters):
    raise Stop("enough")
