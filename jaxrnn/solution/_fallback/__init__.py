"""jaxrnn's copy of the documents' helper module, ``rnn_utils``: ``jaxrnn check FILE`` puts this
folder last on the path of a learner's solution whose folder has none of its own."""
