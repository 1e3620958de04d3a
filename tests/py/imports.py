# Covers: import statements (import, import as, from-import, from-import as, import *, imports inside functions), micropython.const, globals().

import sys
import gc as gcmod
from sys import maxsize
from sys import byteorder as order, version_info
from gc import *

try:
    import micropython
    from micropython import const
    HAVE_MICROPYTHON = True
except ImportError:
    HAVE_MICROPYTHON = False

    def const(v):
        return v


_HIDDEN = const(40)
VISIBLE = const(2)
ANSWER = _HIDDEN + VISIBLE


def local_imports():
    import sys as s
    from gc import collect
    collect()
    return s is sys, callable(collect)


def lazy(name):
    mod = __import__(name)
    return mod.__name__


print(type(sys.path).__name__, maxsize > 2**30, order in ("little", "big"), version_info[0])
print(callable(gcmod.collect), callable(collect), "collect" in dir(gcmod))
print(ANSWER, VISIBLE, "VISIBLE" in globals())
print(local_imports(), lazy("sys"), lazy("gc"))
print(type(HAVE_MICROPYTHON).__name__, __name__)
gcmod.collect()
try:
    import no_such_module_here
except ImportError as e:
    print("missing module:", isinstance(e, ImportError))
try:
    from sys import no_such_name
except ImportError as e:
    print("missing name:", type(e).__name__)
