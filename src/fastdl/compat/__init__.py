"""The course's helper functions, with the same names, signatures, values and printed lines.

Code written against the course's helper files runs unchanged once its import line is
changed; the training functions (``two_layer_model``, ``L_layer_model``, ``nn_model``,
``optimize``, ``model``) then run their iterations in fastdl's compiled engine::

    from fastdl.compat import deep as dnn_app_utils  # in place of the deep notebooks' helper module
    from fastdl.compat.shallow import *              # the planar (tanh) notebook's functions
    from fastdl.compat.logistic import *             # the logistic-regression notebook's

- :mod:`fastdl.compat.deep`: L-layer ReLU networks with a sigmoid output.
- :mod:`fastdl.compat.shallow`: one tanh hidden layer, and ``load_planar_dataset``.
- :mod:`fastdl.compat.logistic`: logistic regression.

The course's data files are not shipped; ``deep.load_data`` and ``logistic.load_dataset``
read them with h5py: ``pip install "fastdl[course]"``. Importing fastdl.compat imports
neither h5py nor anything else beyond fastdl's own dependencies.
"""
from . import deep, logistic, shallow

__all__ = ["deep", "logistic", "shallow"]
