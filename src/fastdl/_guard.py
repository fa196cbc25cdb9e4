"""One call at a time per Network, across threads.

A network's engine keeps its buffers (activations, gradients, the optimizer's state) on
the network, and the kernels release the GIL, so two threads inside one network would
silently mix their arrays. Calls that only read (forward, predict, cost, gradients,
parameters, save) from several threads take turns; a call that trains (fit, step,
set_parameters) while another thread is inside the network, or any call while another
thread trains it, is refused at once with :class:`NetworkBusyError`: waiting for a fit
could mean minutes of silence, and predictions from parameters in mid-update are not worth
having. The thread that holds the network may call back into it (a fit's callbacks predict,
step and set parameters).
"""
import functools
import threading
from threading import get_ident


class NetworkBusyError(RuntimeError):
    """A Network was called from a second thread while it was in use (see fastdl._guard)."""


class CallGuard:
    """Who is inside a network now: (the call's name, its thread, whether it trains).

    Every call passes here, so the uncontended case is kept to one lock taken and
    released per entry and per exit; only a thread that has to wait uses the condition.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._turn = threading.Condition(self._lock)
        self._holder = None  # (what, thread ident, trains)
        self._depth = 0
        self._waiting = 0

    def enter(self, what, trains):
        me = get_ident()
        with self._lock:
            holder = self._holder
            if holder is None:
                self._holder = (what, me, trains)
            elif holder[1] != me:
                self._wait_turn(what, trains, me)
            self._depth += 1

    def _wait_turn(self, what, trains, me):
        """Called with the lock held while another thread is inside: refuse, or wait for
        it to leave (reads after reads), then take the network."""
        while self._holder is not None and self._holder[1] != me:
            held, thread, training = self._holder
            if trains or training:
                raise NetworkBusyError(
                    f"Network.{what} was called from thread {_name(me)!r} while thread "
                    f"{_name(thread)!r} is inside Network.{held}; a network runs one call at "
                    f"a time and does not wait for training. Train or predict with one "
                    f"network per thread (copy.deepcopy(net) gives an independent copy), "
                    f"or predict from a fit's callbacks.")
            self._waiting += 1
            try:
                self._turn.wait()
            finally:
                self._waiting -= 1
        if self._holder is None:
            self._holder = (what, me, trains)

    def leave(self):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                self._holder = None
                if self._waiting:
                    self._turn.notify_all()


def _name(ident):
    """A thread's name from its ident, for messages."""
    for thread in threading.enumerate():
        if thread.ident == ident:
            return thread.name
    return f"<thread {ident}>"


def guarded(what, *, trains):
    """Decorate a Network method so that it runs under the network's CallGuard."""
    def decorate(method):
        @functools.wraps(method)
        def run(self, *args, **kwargs):
            guard = self._guard
            guard.enter(what, trains)
            try:
                return method(self, *args, **kwargs)
            finally:
                guard.leave()
        return run
    return decorate
