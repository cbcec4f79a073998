"""A memo for what several analyzers derive from the same call (its turns, its rates).

`analyze` runs a dozen rules over one transcript and several of them start from the same
derived data. Caching by value would hash the whole transcript (every word) on every
lookup, which costs more than deriving most of it, so the memo holds the latest
arguments and compares them by identity: the model's dataclasses are frozen, so the
same objects mean the same result. One entry per thread: threads analysing different
calls do not evict each other's entry mid-call.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

R = TypeVar("R")


def latest_by_identity(fn: Callable[..., R]) -> Callable[..., R]:
    """Memoise `fn` for its latest positional arguments, compared with `is`.

    Only for functions of frozen (immutable) arguments whose result is not mutated
    by the callers: the same object is handed to every caller.
    """
    local = threading.local()

    @functools.wraps(fn)
    def wrapper(*args):
        last = getattr(local, "last", None)
        if last is not None:
            last_args, result = last
            if len(last_args) == len(args) and all(a is b for a, b in zip(last_args, args)):
                return result
        result = fn(*args)
        local.last = (args, result)
        return result

    return wrapper
