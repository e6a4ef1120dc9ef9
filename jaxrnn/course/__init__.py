"""What the two documents say: their exercises' test cells and printed outputs as data
(:mod:`~jaxrnn.course.exercises`), their algorithms in plain NumPy as an independent reference
(:mod:`~jaxrnn.course.reference`), and the ways learners get them wrong, each one edit of that
reference beside the equation it bends (:mod:`~jaxrnn.course.slips`). ``jaxrnn check`` and
``jaxrnn check FILE`` read them; so do the tests and the notebooks.
"""

from jaxrnn.course import exercises, reference, slips

__all__ = ["exercises", "reference", "slips"]
