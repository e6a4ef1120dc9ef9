"""The documents' helper module, for a solution whose folder has none (``jaxrnn check FILE``
puts this folder last on the path, so a learner's own ``rnn_utils`` comes first).

``softmax`` is the documents': it subtracts the maximum of the whole array, not of each
column, and gives the same values wherever that is finite.
"""

import numpy as np


def softmax(x):
    e_x = np.exp(x - np.max(x))
    return e_x / e_x.sum(axis=0)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))
