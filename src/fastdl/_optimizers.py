"""Parameter-update rules. Each engine applies them; the numpy forms here are the reference.

An optimizer owns its state (velocities, second moments) with the shapes of the
parameters, allocated once by :meth:`start`; ``apply`` updates parameters in place.
"""
import math

import numpy as np

from ._validation import check_choice, check_fraction, check_positive

NAMES = ("adam", "gd", "momentum")


class Optimizer:
    """The shared shape: a learning rate, state made by ``start``, an in-place ``apply``."""

    name = None

    def __init__(self, learning_rate):
        self.learning_rate = learning_rate

    def start(self, params):
        """Allocate state for ``params`` (none by default)."""

    def apply(self, params, grads, skip_first_weight=False):
        """Update ``params`` in place; ``skip_first_weight`` leaves W[1] alone (the dual
        form updates it; its gradient is then None)."""
        raise NotImplementedError


def _zeros(array):
    """Zeros shaped like ``array`` (np.zeros_like would also make a 1-element temporary)."""
    return np.zeros(array.shape, dtype=array.dtype)


def accepted(J, limit=math.inf):
    """Whether a step with cost J updates: J finite and at most ``limit``.

    The one rule every engine and the trainer apply (the compiled iteration's
    ``_accept`` is its twin): NaN fails, and +inf fails even when the limit is +inf.
    """
    return math.isfinite(J) and J <= limit


def guarded_apply(optimizer, params, grads, J, limit, backup=None):
    """Apply one update unless J is NaN, infinite or above ``limit``; returns J.

    A refused update leaves the parameters as they were, so the caller can restore
    ``backup``, which this copies the parameters into before each accepted update. An
    update cut short (a second Ctrl-C) is undone from that copy, so no half-updated
    parameters remain.
    """
    if not accepted(J, limit):
        return J
    if backup is not None:
        for (W, b), (W_saved, b_saved) in zip(params, backup):
            np.copyto(W_saved, W)
            np.copyto(b_saved, b)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            optimizer.apply(params, grads)
    except BaseException:
        if backup is not None:
            for (W, b), (W_saved, b_saved) in zip(params, backup):
                np.copyto(W, W_saved)
                np.copyto(b, b_saved)
        raise
    return J


class GradientDescent(Optimizer):
    """Plain gradient descent: W := W − α dW, b := b − α db."""

    name = "gd"

    def apply(self, params, grads, skip_first_weight=False):
        """Update ``params`` (a list of (W, b)) in place from ``grads`` (a list of (dW, db))."""
        for l, ((W, b), (dW, db)) in enumerate(zip(params, grads)):
            if l or not skip_first_weight:
                W -= W.dtype.type(self.learning_rate) * dW
            b -= b.dtype.type(self.learning_rate) * db


class Momentum(Optimizer):
    """Gradient descent with momentum, an exponentially weighted average of gradients.

    .. math:: v := βv + (1 − β) dW,\\quad W := W − α v   (v starts at 0)

    With ``nesterov``, the step looks ahead along the new velocity:
    W := W − α (βv + (1 − β) dW). (The "heavy ball" form v := μv − η dW, W := W + v of
    scikit-learn is this one with β = μ and α = η / (1 − μ).)
    """

    name = "momentum"

    def __init__(self, learning_rate, beta=0.9, nesterov=False):
        super().__init__(learning_rate)
        self.beta = beta
        self.nesterov = bool(nesterov)
        self.velocities = None

    def start(self, params):
        self.velocities = [(_zeros(W), _zeros(b)) for W, b in params]

    def apply(self, params, grads, skip_first_weight=False):
        beta = self.beta
        for l, ((W, b), (dW, db), (vW, vb)) in enumerate(zip(params, grads, self.velocities)):
            pairs = ((b, db, vb),) if l == 0 and skip_first_weight else ((W, dW, vW), (b, db, vb))
            for theta, d, v in pairs:
                t = theta.dtype.type
                v *= t(beta)
                v += t(1 - beta) * d
                step = v * t(beta) + t(1 - beta) * d if self.nesterov else v
                theta -= t(self.learning_rate) * step


class Adam(Optimizer):
    """Adam: momentum and RMSprop with bias correction.

    .. math:: v := β_1 v + (1−β_1) dW,\\ s := β_2 s + (1−β_2) dW^2,\\
              W := W − α \\frac{v / (1 − β_1^t)}{\\sqrt{s / (1 − β_2^t)} + ε}

    t counts updates from 1, so the first steps are not biased towards the zero start.
    With ``epsilon_form="uncorrected"``, ε is added to √s before the correction, as in
    the original paper's efficient form and scikit-learn:
    W := W − α (√(1−β_2^t)/(1−β_1^t)) v / (√s + ε).
    """

    name = "adam"
    EPSILON_FORMS = ("corrected", "uncorrected")

    def __init__(self, learning_rate, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 epsilon_form="corrected"):
        super().__init__(learning_rate)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.epsilon_form = check_choice("epsilon_form", epsilon_form, self.EPSILON_FORMS)
        self.t = 0
        self.moments = None

    def start(self, params):
        self.t = 0
        self.moments = [tuple((_zeros(p), _zeros(p)) for p in pair) for pair in params]

    def corrections(self, t):
        """The bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ of the t-th update."""
        return 1 - self.beta1 ** t, 1 - self.beta2 ** t

    def step_arguments(self, t):
        """``(α, c1, c2)`` of the t-th update W −= α (v / c1) / (√(s / c2) + ε): the
        uncorrected form folds √(1−β₂ᵗ) into α and leaves s alone."""
        c1, c2 = self.corrections(t)
        if self.epsilon_form == "corrected":
            return self.learning_rate, c1, c2
        return self.learning_rate * math.sqrt(c2), c1, 1.0

    def apply(self, params, grads, skip_first_weight=False):
        if skip_first_weight:
            raise ValueError("Adam has no dual form")
        self.t += 1
        rate, c1, c2 = self.step_arguments(self.t)
        for pair, dpair, moments in zip(params, grads, self.moments):
            for theta, d, (v, s) in zip(pair, dpair, moments):
                t = theta.dtype.type
                v *= t(self.beta1)
                v += t(1 - self.beta1) * d
                s *= t(self.beta2)
                s += t(1 - self.beta2) * (d * d)
                theta -= t(rate) * (v / t(c1)) / (np.sqrt(s / t(c2)) + t(self.epsilon))


def make_optimizer(name, learning_rate, *, beta=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8,
                   nesterov=False):
    """The optimizer called ``name``, its hyperparameters validated."""
    check_choice("optimizer", name, NAMES)
    learning_rate = check_positive("learning_rate", learning_rate)
    if name == "gd":
        return GradientDescent(learning_rate)
    for argument, value in (("beta", beta), ("beta1", beta1), ("beta2", beta2)):
        check_fraction(argument, value)
    if name == "momentum":
        return Momentum(learning_rate, beta, nesterov)
    return Adam(learning_rate, beta1, beta2, check_positive("epsilon", epsilon))
