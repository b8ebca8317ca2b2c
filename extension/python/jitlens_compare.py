"""JIT Lens's ground-truth helper: runs the user's function with the user's own NumPy and JAX.

Started by compiler-core/src/compare.ts (the CLI's `jitlens compare` and, later, the editor's
"Compare with JAX" command) as

    python3 jitlens_compare.py REQUEST.json

REQUEST.json (written by compare.ts) names the Python file, the function, the call plan (the
argument spec, evaluated by JIT Lens: which leaves are arrays and which are static Python
values), the input arrays as .npy files written by JIT Lens from the same seed it uses itself,
the timing options, and where to write the result. The helper writes RESULT.json (the `result`
path of the request) and nothing else that matters; the function's own prints go to stderr.

What it does, each step independent of the others (a failure is recorded, the rest goes on):

- imports the user's module from its path under a private module name, so an
  `if __name__ == "__main__":` block does NOT run; the module's top level DOES run (imports,
  constants, decorators), as it would for any import;
- with JAX: versions, default backend and device, `jax.make_jaxpr` text, the lowered
  StableHLO (`jax.jit(f).lower(*args).as_text()`), the compiled HLO
  (`.compile().as_text()`), times of eager (`jax.disable_jit()`) and `jax.jit` (first call,
  then after warm-up, each call ended by `block_until_ready`), and its outputs as .npy;
- with NumPy: the module is imported a second time with `jax`, `jax.numpy` and `jax.nn`
  replaced by a small NumPy shim (see `numpy_shim`), and the function runs on NumPy arrays;
  anything the shim cannot provide (jax.grad, jax.lax, x.at[...], jax.random, ...) makes the
  NumPy run fail with "does not run under NumPy: <reason>".

Static arguments: every non-array leaf of the argument spec (e.g. `n=3`, `act="relu"`) is a
Python value closed over by the function that JAX traces (like `static_argnums`), so only the
array leaves are arguments of `make_jaxpr` / `jit`. A function already decorated with
`jax.jit` is unwrapped (`__wrapped__`) so its jaxpr is the function's own, as JIT Lens shows it.

Errors never print a traceback: they are {kind, message, span} with the last frame of the
user's file (file:line) when there is one.
"""

import ast
import contextlib
import hashlib
import importlib.util
import json
import os
import platform
import sys
import threading
import time
import types
import traceback

HELPER_VERSION = 1
_real_stderr = sys.__stderr__


def stage(name):
    """Progress on the real stderr, so the caller can say what was running at a timeout."""
    try:
        _real_stderr.write("@@jitlens-stage %s\n" % name)
        _real_stderr.flush()
    except Exception:
        pass


# ---------------------------------------------------------------------------------------
# Errors as data


def error_info(exc, user_file, prefix=""):
    """{kind, message, span?} for an exception: no traceback, the user's last frame as span."""
    kind = type(exc).__name__
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        line = int(exc.lineno)
        col = int(exc.offset or 1)
        msg = exc.msg or "invalid syntax"
        span = {"file": exc.filename, "line": line, "col": col, "endLine": line, "endCol": col + 1}
        return {"kind": kind, "message": prefix + msg, "span": span}
    message = str(exc).strip()
    # JAX appends long notes; the first paragraph is the message.
    for marker in ("\n\nFor simplicity, JAX has removed", "\n--------------------"):
        i = message.find(marker)
        if i >= 0:
            message = message[:i].rstrip()
    if len(message) > 2000:
        message = message[:2000] + " ..."
    if not message:
        message = kind
    frames = traceback.extract_tb(exc.__traceback__)
    target = os.path.realpath(user_file) if user_file else None
    user = [f for f in frames if target and os.path.realpath(f.filename) == target]
    span = None
    if user:
        f = user[-1]
        span = {"file": user_file, "line": f.lineno, "col": 1, "endLine": f.lineno, "endCol": 1}
    if frames:
        last = frames[-1]
        if not user or os.path.realpath(last.filename) != target:
            message += " (raised at %s:%d)" % (last.filename, last.lineno)
    info = {"kind": kind, "message": prefix + message}
    if span:
        info["span"] = span
    return info


# ---------------------------------------------------------------------------------------
# Importing the user's module


_counter = [0]
_checkpoint = [lambda: None]


def checkpoint():
    """Writes the result so far, so that a timeout keeps what was measured."""
    _checkpoint[0]()


def import_user_module(path, shim=None):
    """Imports `path` under a private name (its `__main__` block does not run)."""
    _counter[0] += 1
    name = "_jitlens_user_%d" % _counter[0]
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot import %s" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    with shim_installed(shim):
        with contextlib.redirect_stdout(sys.stderr):
            spec.loader.exec_module(module)
    return module


@contextlib.contextmanager
def shim_installed(shim):
    """Temporarily replaces `jax`, `jax.numpy`, ... in sys.modules with the shim's modules."""
    if not shim:
        yield
        return
    saved = {k: sys.modules.get(k) for k in shim}
    # Submodules of the real jax must not be found through the shim either.
    hidden = {k: v for k, v in sys.modules.items() if (k == "jax" or k.startswith("jax.")) and k not in shim}
    for k in hidden:
        del sys.modules[k]
    sys.modules.update(shim)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
        sys.modules.update(hidden)


def get_function(module, name):
    if not hasattr(module, name):
        raise NameError("%s defines no top-level name '%s'" % (module.__file__, name))
    f = getattr(module, name)
    # A jax.jit-decorated function: trace the function itself (its jaxpr then has no outer
    # `jit` equation, as JIT Lens shows it).
    inner = getattr(f, "__wrapped__", None)
    if inner is not None and callable(inner) and hasattr(f, "lower"):
        f = inner
    if not callable(f):
        raise TypeError("'%s' is a %s, not a function" % (name, type(f).__name__))
    return f


# ---------------------------------------------------------------------------------------
# NumPy shim: `jnp` -> numpy with JAX's float32/int32 defaults


def numpy_shim(np):
    """Modules standing in for jax, jax.numpy and jax.nn when running under plain NumPy."""

    class Unavailable(object):
        """jax.grad, jax.lax.scan, jax.random.normal, ...: an error when used, not when imported."""

        def __init__(self, name):
            self._name = name

        def __getattr__(self, attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return Unavailable("%s.%s" % (self._name, attr))

        def __call__(self, *a, **k):
            raise NotImplementedError("%s has no NumPy equivalent" % self._name)

    class Missing(types.ModuleType):
        def __getattr__(self, attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return Unavailable("%s.%s" % (self.__name__, attr))

    def f32_default(fn):
        def wrapped(*a, **k):
            if k.get("dtype") is None:
                k.pop("dtype", None)
                out = fn(*a, **k)
                return narrow(out)
            return fn(*a, **k)
        wrapped.__name__ = fn.__name__
        return wrapped

    def narrow(x):
        # JAX without x64: float64 -> float32, int64 -> int32.
        if isinstance(x, np.ndarray):
            if x.dtype == np.float64:
                return x.astype(np.float32)
            if x.dtype == np.int64:
                return x.astype(np.int32)
        return x

    jnp = Missing("jax.numpy")
    for attr in dir(np):
        if not attr.startswith("_"):
            setattr(jnp, attr, getattr(np, attr))
    for fn in ("array", "asarray", "zeros", "ones", "full", "empty", "arange", "linspace", "eye", "identity", "zeros_like", "ones_like", "full_like", "tri"):
        if hasattr(np, fn):
            setattr(jnp, fn, f32_default(getattr(np, fn)))
    jnp.ndarray = np.ndarray

    def erf(x):
        try:
            from math import erf as _erf
            return np.vectorize(_erf, otypes=[np.asarray(x).dtype])(x)
        except Exception as e:  # pragma: no cover
            raise NotImplementedError("erf: %s" % e)

    nn = Missing("jax.nn")

    def softmax(x, axis=-1):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return e / np.sum(e, axis=axis, keepdims=True)

    def logsumexp(x, axis=None, keepdims=False):
        m = np.max(x, axis=axis, keepdims=True)
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
        return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())

    def log_softmax(x, axis=-1):
        return x - logsumexp(x, axis=axis, keepdims=True)

    def gelu(x, approximate=True):
        if approximate:
            return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi).astype(np.asarray(x).dtype) * (x + 0.044715 * x ** 3)))
        return 0.5 * x * (1 + erf(x / np.sqrt(2).astype(np.asarray(x).dtype)))

    def one_hot(x, num_classes, dtype=np.float32, axis=-1):
        x = np.asarray(x)
        out = (x[..., None] == np.arange(num_classes)).astype(dtype)
        return np.moveaxis(out, -1, axis) if axis != -1 else out

    nn.relu = lambda x: np.maximum(x, 0)
    nn.relu6 = lambda x: np.minimum(np.maximum(x, 0), 6)
    nn.sigmoid = lambda x: 1 / (1 + np.exp(-x))
    nn.silu = nn.swish = lambda x: x / (1 + np.exp(-x))
    nn.softplus = lambda x: np.logaddexp(x, 0)
    nn.elu = lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(x))
    nn.leaky_relu = lambda x, negative_slope=0.01: np.where(x >= 0, x, negative_slope * x)
    nn.tanh = np.tanh
    nn.softmax = softmax
    nn.log_softmax = log_softmax
    nn.logsumexp = logsumexp
    nn.gelu = gelu
    nn.one_hot = one_hot

    jax = Missing("jax")
    jax.numpy = jnp
    jax.nn = nn
    jax.Array = np.ndarray

    def jit(fun=None, **kwargs):
        if fun is None:
            return lambda f: f
        return fun

    jax.jit = jit
    lax = Missing("jax.lax")
    lax.rsqrt = lambda x: 1 / np.sqrt(x)
    for name in ("exp", "log", "tanh", "sin", "cos", "sqrt", "abs", "max", "min", "maximum", "minimum", "neg", "sign", "square"):
        if hasattr(np, {"max": "maximum", "min": "minimum", "neg": "negative"}.get(name, name)):
            setattr(lax, name, getattr(np, {"max": "maximum", "min": "minimum", "neg": "negative"}.get(name, name)))
    jax.lax = lax
    scipy = Missing("jax.scipy")
    special = Missing("jax.scipy.special")
    special.logsumexp = logsumexp
    special.erf = erf
    scipy.special = special
    jax.scipy = scipy
    return {
        "jax": jax, "jax.numpy": jnp, "jax.nn": nn, "jax.lax": lax,
        "jax.scipy": scipy, "jax.scipy.special": special,
    }


# ---------------------------------------------------------------------------------------
# Arguments


def build_args(plan, leaves):
    """Keyword arguments for the function from the call plan, with `leaves` at the array leaves."""

    def build(node):
        if "leaf" in node:
            return leaves[node["leaf"]]
        if "py" in node:
            text = node["py"]
            if text in ("nan", "inf", "-inf"):
                return float(text)
            return ast.literal_eval(text)
        if "dtype" in node:
            import numpy
            return numpy.dtype(node["dtype"])
        if "tuple" in node:
            return tuple(build(x) for x in node["tuple"])
        if "list" in node:
            return [build(x) for x in node["list"]]
        if "dict" in node:
            return {ast.literal_eval(k): build(v) for k, v in node["dict"]}
        raise ValueError("bad call-plan node %r" % (node,))

    return {a["name"]: build(a["value"]) for a in plan}


def flatten(x, out):
    """Output leaves in JAX's pytree order: tuples and lists in order, dicts by sorted key."""
    if isinstance(x, (tuple, list)):
        for v in x:
            flatten(v, out)
    elif isinstance(x, dict):
        for k in sorted(x):
            flatten(x[k], out)
    elif x is None:
        pass
    else:
        out.append(x)
    return out


def fingerprint(a):
    import numpy as np
    a = np.asarray(a, order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
    return {
        "type": "%s[%s]" % (DTYPES.get(a.dtype.str, a.dtype.str), ",".join(str(d) for d in a.shape)),
        "sha256": hashlib.sha256(a.tobytes()).hexdigest(),
    }


DTYPES = {"<f4": "f32", "<f8": "f64", "<i4": "i32", "<i8": "i64", "|b1": "bool", "<f2": "f16", "<u4": "u32", "|u1": "u8", "|i1": "i8"}


def save_outputs(np, out, folder):
    os.makedirs(folder, exist_ok=True)
    types_ = []
    for i, leaf in enumerate(flatten(out, [])):
        a = np.asarray(leaf)
        types_.append(fingerprint(a)["type"])
        np.save(os.path.join(folder, "%d.npy" % i), np.asarray(a, order="C"))
    return types_


# ---------------------------------------------------------------------------------------
# Timing (as compiler-core/src/runtime/timing.ts: warm-up, then min runs and min time, capped)


def measure(fn, opts):
    for _ in range(int(opts.get("warmup", 1))):
        fn()
    min_runs = int(opts.get("minRuns", 5))
    min_time = float(opts.get("minTimeMs", 200))
    max_runs = int(opts.get("maxRuns", 10000))
    max_time = float(opts.get("maxTimeMs", max(2000.0, min_time * 4)))
    times = []
    total = 0.0
    while True:
        t0 = time.perf_counter()
        fn()
        dt = (time.perf_counter() - t0) * 1000.0
        times.append(dt)
        total += dt
        if len(times) >= max_runs or total >= max_time:
            break
        if len(times) >= min_runs and total >= min_time:
            break
    s = sorted(times)
    n = len(s)
    median = s[(n - 1) // 2] if n % 2 == 1 else (s[n // 2 - 1] + s[n // 2]) / 2
    return {"median_ms": median, "min_ms": s[0], "max_ms": s[-1], "runs": n}


# ---------------------------------------------------------------------------------------
# The three runs


def run_numpy(req, np, leaves, result, workdir):
    user_file = req["file"]
    run = {}
    result["runs"]["numpy"] = run
    shim = numpy_shim(np)
    try:
        stage("numpy-import")
        module = import_user_module(user_file, shim)
        f = get_function(module, req["fn"])
        kwargs = build_args(req["args"], leaves)
        stage("numpy-run")
        with shim_installed(shim), contextlib.redirect_stdout(sys.stderr):
            t0 = time.perf_counter()
            out = f(**kwargs)
            run["first_call_ms"] = (time.perf_counter() - t0) * 1000.0
            leaves_out = flatten(out, [])
            bad = [type(x).__name__ for x in leaves_out if not isinstance(x, (np.ndarray, np.generic, int, float, bool, complex))]
            if bad:
                raise TypeError("it returned %s, not NumPy arrays" % ", ".join(sorted(set(bad))))
            run["outputs"] = save_outputs(np, out, os.path.join(workdir, "out", "numpy"))
            stage("numpy-time")
            run["timing"] = measure(lambda: f(**kwargs), req.get("timing", {}))
    except BaseException as e:  # noqa: BLE001 - every failure is data
        if isinstance(e, KeyboardInterrupt):
            raise
        if isinstance(e, SyntaxError) or (isinstance(e, ImportError) and not is_jax_module(getattr(e, "name", None))):
            # An error of the file (or a module it imports), not of NumPy: nothing can run.
            result["error"] = error_info(e, user_file)
            del result["runs"]["numpy"]
        else:
            run["error"] = error_info(e, user_file, "does not run under NumPy: ")


def is_jax_module(name):
    return bool(name) and (name == "jax" or name.startswith("jax.") or name == "jaxlib" or name.startswith("jaxlib."))


def note_missing_jax(result):
    try:
        import jax  # noqa: F401
    except BaseException as e:  # noqa: BLE001
        result["missing"].append("JAX is not installed in this Python environment (%s: %s); install it (pip install jax) to compare with jax.jit" % (type(e).__name__, e))


def run_jax(req, np, leaves, result, workdir, module):
    user_file = req["file"]
    try:
        stage("jax-import")
        import jax
    except BaseException as e:  # noqa: BLE001
        result["missing"].append("JAX is not installed in this Python environment (%s: %s); install it (pip install jax) to compare with jax.jit" % (type(e).__name__, e))
        return
    versions = result["versions"]
    versions["jax"] = getattr(jax, "__version__", "?")
    try:
        import jaxlib
        versions["jaxlib"] = getattr(jaxlib, "__version__", None) or getattr(getattr(jaxlib, "version", None), "__version__", "?")
    except Exception:
        pass
    try:
        devs = jax.devices()
        d = devs[0]
        result["jax"] = {
            "backend": jax.default_backend(),
            "device": "%s (%s)" % (getattr(d, "device_kind", str(d)), d),
            "devices": len(devs),
        }
    except BaseException as e:  # noqa: BLE001
        result["missing"].append("JAX has no usable device: %s" % e)
        return
    try:
        x64 = bool(jax.config.jax_enable_x64)
    except Exception:
        x64 = False
    if not x64 and any(np.asarray(l).dtype == np.float64 for l in leaves):
        result["warnings"].append("float64 inputs become float32 in JAX (jax_enable_x64 is off)")

    f = get_function(module, req["fn"])
    dev_leaves = [jax.device_put(l) for l in leaves]
    plan = req["args"]

    def make_g():
        # A new function object each time, so that no JAX cache is shared between the steps.
        def g(*arrays):
            return f(**build_args(plan, list(arrays)))

        g.__name__ = g.__qualname__ = req["fn"]
        return g

    def attempt(key, fn):
        try:
            with contextlib.redirect_stdout(sys.stderr):
                return fn()
        except Exception as e:  # noqa: BLE001 - every failure is data
            result["stage_errors"][key] = error_info(e, user_file)
            return None

    # jax.jit first, on a function JAX has never seen: its first call is trace + compile + run.
    stage("jax-jit")
    jitted = jax.jit(make_g())
    result["runs"]["jax_jit"] = timed_run(lambda: jax.block_until_ready(jitted(*dev_leaves)), req, user_file,
                                          lambda out: save_outputs(np, out, os.path.join(workdir, "out", "jax")))
    checkpoint()

    # eager: one dispatch per primitive, as without jit
    g_eager = make_g()

    def eager_call():
        with jax.disable_jit():
            return jax.block_until_ready(g_eager(*dev_leaves))

    stage("jax-eager")
    result["runs"]["jax_eager"] = timed_run(eager_call, req, user_file)
    checkpoint()

    stage("jaxpr")
    closed = attempt("jaxpr", lambda: jax.make_jaxpr(make_g())(*dev_leaves))
    if closed is not None:
        result["jaxpr"] = str(closed)
    stage("lower")
    lowered = attempt("stablehlo", lambda: jax.jit(make_g()).lower(*dev_leaves))
    if lowered is not None:
        text = attempt("stablehlo", lambda: lowered.as_text())
        if text is not None:
            result["stablehlo"] = text
        stage("compile")
        compiled = attempt("hlo", lambda: lowered.compile())
        if compiled is not None:
            text = attempt("hlo", lambda: compiled.as_text())
            if text is not None:
                result["hlo"] = text


def timed_run(call, req, user_file, keep=None):
    """{first_call_ms, outputs?, timing} of `call`, or {error}."""
    run = {}
    try:
        with contextlib.redirect_stdout(sys.stderr):
            t0 = time.perf_counter()
            out = call()
            run["first_call_ms"] = (time.perf_counter() - t0) * 1000.0
            if keep is not None:
                run["outputs"] = keep(out)
            run["timing"] = measure(call, req.get("timing", {}))
    except Exception as e:  # noqa: BLE001 - every failure is data
        run["error"] = error_info(e, user_file)
    return run


def exit_with_parent():
    """Stop when the process that started us (JIT Lens's engine) goes away.

    Cancelling a comparison in the editor kills the engine; without this, the helper would go
    on running the user's code as an orphan. Checked twice a second by a daemon thread.
    """
    parent = os.getppid()
    if parent <= 1:
        return

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(3)

    threading.Thread(target=watch, name="jitlens-parent-watch", daemon=True).start()


def main(argv):
    exit_with_parent()
    if len(argv) != 2:
        sys.stderr.write("usage: jitlens_compare.py REQUEST.json\n")
        return 2
    with open(argv[1], "r", encoding="utf-8") as fh:
        req = json.load(fh)
    result_path = req["result"]
    workdir = os.path.dirname(os.path.abspath(result_path))
    result = {
        "helper_version": HELPER_VERSION,
        "versions": {"python": platform.python_version(), "python_implementation": platform.python_implementation()},
        "missing": [],
        "warnings": [],
        "inputs": [],
        "runs": {},
        "stage_errors": {},
    }

    def write():
        tmp = result_path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(result, fh, allow_nan=True)
        os.replace(tmp, result_path)

    _checkpoint[0] = write

    try:
        stage("numpy")
        try:
            import numpy as np
        except BaseException as e:  # noqa: BLE001
            result["missing"].append("NumPy is not installed in this Python environment (%s); install it (pip install numpy)" % e)
            write()
            return 0
        result["versions"]["numpy"] = np.__version__
        stage("inputs")
        leaves = []
        for inp in req["inputs"]:
            a = np.load(os.path.join(workdir, inp["file"]), allow_pickle=False)
            leaves.append(a)
            result["inputs"].append(fingerprint(a))
        # A syntax error or an exception at the module's top level stops everything: report it.
        stage("import")
        module = None
        try:
            module = import_user_module(req["file"])  # with the real jax, if installed
            get_function(module, req["fn"])
        except ModuleNotFoundError as e:
            if is_jax_module(e.name):
                module = None  # no JAX: the NumPy run (with its shim) still works
            else:
                result["error"] = error_info(e, req["file"])
                write()
                return 0
        except BaseException as e:  # noqa: BLE001
            if isinstance(e, KeyboardInterrupt):
                raise
            result["error"] = error_info(e, req["file"])
            write()
            return 0
        checkpoint()
        if "numpy" in req.get("modes", ["numpy", "jax"]):
            run_numpy(req, np, leaves, result, workdir)
            checkpoint()
        if "jax" in req.get("modes", ["numpy", "jax"]):
            try:
                if module is not None:
                    run_jax(req, np, leaves, result, workdir, module)
                else:
                    note_missing_jax(result)
            except BaseException as e:  # noqa: BLE001
                if isinstance(e, KeyboardInterrupt):
                    raise
                result["error"] = error_info(e, req["file"])
    except BaseException as e:  # noqa: BLE001
        result["error"] = {"kind": "HelperError", "message": "the JIT Lens Python helper failed: %s: %s" % (type(e).__name__, e)}
    stage("done")
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
