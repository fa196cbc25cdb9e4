"""Parameter-update rules. Each engine applies them; the numpy forms here are the reference."""
from dataclasses import dataclass


@dataclass
class GradientDescent:
    """Plain gradient descent: W := W − α dW, b := b − α db."""

    learning_rate: float
    name = "gd"

    def apply(self, params, grads):
        """Update ``params`` (a list of (W, b)) in place from ``grads`` (a list of (dW, db))."""
        for (W, b), (dW, db) in zip(params, grads):
            W -= self.learning_rate * dW
            b -= self.learning_rate * db
