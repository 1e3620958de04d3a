# Covers: try/except/else/finally, raise from, re-raise, custom exceptions, nested try in loops with break/continue/return inside finally.


class AppError(Exception):
    pass


class ConfigError(AppError):
    def __init__(self, key, detail="missing"):
        super().__init__(key, detail)
        self.key = key


def risky(n):
    if n == 0:
        raise ValueError("zero")
    if n == 1:
        raise ConfigError("path")
    if n == 2:
        return [][5]
    if n == 3:
        return {}["k"]
    if n == 4:
        return 1 // 0
    return n * 10


def classify(n):
    try:
        v = risky(n)
    except ValueError as e:
        r = "value:" + str(e)
    except AppError as e:
        r = "app:%s/%s" % (e.key, e.args[1])
    except (IndexError, KeyError) as e:
        r = "lookup:" + type(e).__name__
    except Exception as e:
        r = "other:" + type(e).__name__
    else:
        r = "ok:%d" % v
    finally:
        print("  finally", n)
    return r


def convert(s):
    try:
        return int(s)
    except ValueError as e:
        raise AppError("bad number " + s) from e


def reraise():
    try:
        try:
            raise KeyError("inner")
        except KeyError:
            print("handling, then re-raise")
            raise
    except KeyError as e:
        return "outer got " + type(e).__name__


def loop_finally():
    out = []
    for i in range(6):
        try:
            if i == 1:
                continue
            if i == 4:
                break
            out.append(i)
        finally:
            out.append("f%d" % i)
    return out


def break_in_finally():
    out = []
    i = 0
    while True:
        i += 1
        try:
            try:
                if i % 2:
                    raise ValueError(i)
                out.append(i)
            finally:
                if i > 4:
                    break
                out.append(-i)
        except ValueError:
            out.append("v")
    return out, i


def continue_in_finally():
    out = []
    for i in range(4):
        try:
            if i == 2:
                raise RuntimeError("swallowed")
            out.append(i)
        finally:
            continue
    return out


def return_in_finally():
    try:
        return "from try"
    finally:
        print("finally before return")


def finally_overrides():
    for _ in range(1):
        try:
            raise ValueError("lost")
        finally:
            return "finally wins"


def nested_loops():
    found = None
    for a in range(5):
        for b in range(5):
            try:
                if a * b == 6:
                    found = (a, b)
                    break
            except Exception:
                pass
            finally:
                pass
        else:
            continue
        break
    return found


def cleanup_order():
    log = []
    try:
        try:
            log.append("body")
            raise IndexError
        finally:
            log.append("inner finally")
    except IndexError:
        log.append("except")
    else:
        log.append("else")
    finally:
        log.append("outer finally")
    return log


for n in range(6):
    print(classify(n))
try:
    convert("x1")
except AppError as e:
    print("raised from:", e.args[0])
print(convert("12"))
print(reraise())
print(loop_finally())
print(break_in_finally())
print(continue_in_finally())
print(return_in_finally())
print(finally_overrides())
print(nested_loops())
print(cleanup_order())
try:
    raise ConfigError("k2", "invalid")
except ConfigError as e:
    print(e.key, e.args, isinstance(e, AppError), isinstance(e, Exception))
try:
    raise StopIteration
except StopIteration:
    print("stop")
try:
    raise AppError
except AppError as e:
    print("class raised", type(e).__name__, e.args)
