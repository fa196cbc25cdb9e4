"""fastdl.compat: the course's ``L_layer_model`` on its cat network, against the course's numpy loop.

A short run (``ITERATIONS``, 10) keeps one asv sample well under a second on 2 cores; compare.py's
``--suite course`` times the whole 2500-iteration run. The numpy side is the notebook's
loop from ``benchmarks/_suite_course.py`` (which reuses compare.py's ``notes_*`` code), so
both suites time the same two things.
"""
import os
import sys

from .common import TIMER, make_images

# _suite_course.py sits beside compare.py, one folder above this package.
_BENCHMARKS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _BENCHMARKS not in sys.path:
    sys.path.insert(0, _BENCHMARKS)

from _suite_course import FASTDL, IMPLEMENTATIONS, LAYERS_DIMS, LEARNING_RATE, M, NOTES  # noqa: E402

ITERATIONS = 10


class LLayerModel:
    """``L_layer_model(X, Y, [12288, 20, 7, 5, 1])`` on m = 209 images of the cat data's
    shape and scale: fastdl.compat (one ``Network.fit`` call) or the numpy notes loop."""

    params = [[FASTDL, NOTES]]
    param_names = ["impl"]
    timer = TIMER

    def setup(self, impl):
        self.X, self.Y = make_images(LAYERS_DIMS[0], M)
        self.train = IMPLEMENTATIONS[impl]

    def time_L_layer_model(self, impl):
        self.train(self.X, self.Y, LAYERS_DIMS, LEARNING_RATE, ITERATIONS)

    def track_first_cost(self, impl):
        """The cost at iteration 0: the same start for both sides, or the times mean nothing."""
        return self.train(self.X, self.Y, LAYERS_DIMS, LEARNING_RATE, 1)[1][0]

    track_first_cost.unit = "cost"
