"""The calls of a Network that read it, by name, for the tests that cross inputs with entries."""

READS = {
    "forward": lambda net, X, Y: net.forward(X),
    "predict": lambda net, X, Y: net.predict(X),
    "predict_proba": lambda net, X, Y: net.predict_proba(X),
    "accuracy": lambda net, X, Y: net.accuracy(X, Y),
    "cost": lambda net, X, Y: net.cost(X, Y),
    "gradients": lambda net, X, Y: net.gradients(X, Y),
}
