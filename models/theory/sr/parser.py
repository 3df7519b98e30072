"""The one safe parser that turns expression text (from any SR backend or an LLM) into sympy.

Every expression that enters hepilot's symbolic regression passes through `parse_expression`:
1. a token check with Python's `tokenize`: only names from the whitelist (the declared variables,
   the allowed functions, `pi`, and free parameters `c0`, `c1`, ...), decimal numbers and the
   operators `+ - * / ** ^ ( ) ,` are accepted — no attribute access (`.`), no strings, no
   subscripts, no keywords, no dunder names;
2. `sympy.parse_expr` with a restricted local/global dict (empty `__builtins__`), only the
   `auto_number` and `convert_xor` transformations and `evaluate=False`;
3. a walk over the unevaluated tree: only whitelisted node types, constant sub-expressions are
   evaluated numerically first (so `9**9**9` is rejected instead of hanging), bounded size;
4. evaluation by rebuilding the tree bottom-up; complex, infinite or NaN results are rejected.
Nothing is ever passed to `eval`/`exec` by this module. Dialects name the function vocabulary:
"standard" (exp, log/ln, sqrt, sin, cos, tan, asin/arcsin, ..., abs, square, cube, cbrt, pow) and
"gplearn" (add, sub, mul, div, neg, inv, protected sqrt/log as gplearn defines them, ...).
"""
from __future__ import annotations

import io
import keyword
import math
import re
import tokenize
from collections.abc import Callable, Iterable, Mapping

import sympy
from sympy.parsing.sympy_parser import auto_number, convert_xor, parse_expr

__all__ = [
    "ExpressionError",
    "parse_expression",
    "param_symbol",
    "is_param",
    "make_symbols",
    "safe_name",
    "DIALECTS",
    "MAX_LENGTH",
]

MAX_LENGTH = 2000
MAX_NODES = 400
MAX_EXPONENT = 100.0
PARAM_RE = re.compile(r"^[cC](\d{1,2})$")
_NUMBER_RE = re.compile(r"^(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?$")
_OPS = {"+", "-", "*", "/", "**", "^", "(", ")", ","}
_SKIP = {tokenize.ENCODING, tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT, tokenize.DEDENT}


class ExpressionError(ValueError):
    """Expression text that is not allowed or not a valid real-valued formula; the message says why."""


def _kw(fn: Callable) -> Callable:
    """Accept (and drop) the `evaluate=` keyword parse_expr passes to every call."""
    return lambda *args, **_: fn(*args)


_STANDARD: dict[str, Callable] = {
    "exp": sympy.exp, "log": sympy.log, "ln": sympy.log, "sqrt": sympy.sqrt,
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
    "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan,
    "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh,
    "abs": sympy.Abs, "Abs": sympy.Abs,
    "square": _kw(lambda a: sympy.Pow(a, 2, evaluate=False)),
    "cube": _kw(lambda a: sympy.Pow(a, 3, evaluate=False)),
    "cbrt": _kw(lambda a: sympy.Pow(a, sympy.Rational(1, 3), evaluate=False)),
    "pow": _kw(lambda a, b: sympy.Pow(a, b, evaluate=False)),
}
_GPLEARN: dict[str, Callable] = {
    **{k: _STANDARD[k] for k in ("sin", "cos", "tan", "exp", "tanh")},
    "add": _kw(lambda a, b: sympy.Add(a, b, evaluate=False)),
    "sub": _kw(lambda a, b: sympy.Add(a, sympy.Mul(-1, b, evaluate=False), evaluate=False)),
    "mul": _kw(lambda a, b: sympy.Mul(a, b, evaluate=False)),
    "div": _kw(lambda a, b: sympy.Mul(a, sympy.Pow(b, -1, evaluate=False), evaluate=False)),
    "neg": _kw(lambda a: sympy.Mul(-1, a, evaluate=False)),
    "inv": _kw(lambda a: sympy.Pow(a, -1, evaluate=False)),
    "abs": sympy.Abs,
    # gplearn's protected functions act on |x| (sqrt) and |x| (log)
    "sqrt": _kw(lambda a: sympy.sqrt(sympy.Abs(a))),
    "log": _kw(lambda a: sympy.log(sympy.Abs(a))),
    "square": _STANDARD["square"],
}
DIALECTS: dict[str, dict[str, Callable]] = {"standard": _STANDARD, "gplearn": _GPLEARN}

_ALLOWED_FUNCS = (sympy.exp, sympy.log, sympy.sin, sympy.cos, sympy.tan, sympy.asin, sympy.acos, sympy.atan,
                  sympy.sinh, sympy.cosh, sympy.tanh, sympy.Abs)
_GLOBALS_TEMPLATE = {"Integer": sympy.Integer, "Float": sympy.Float, "Rational": sympy.Rational,
                     "Add": sympy.Add, "Mul": sympy.Mul, "Pow": sympy.Pow}


def param_symbol(i: int) -> sympy.Symbol:
    """The free-parameter symbol c<i> (real); the same object for the same i."""
    return sympy.Symbol(f"c{i}", real=True)


def is_param(sym: sympy.Basic) -> bool:
    """True for the free-parameter symbols c0, c1, ... (variables may not use these names)."""
    return isinstance(sym, sympy.Symbol) and bool(PARAM_RE.match(sym.name))


def safe_name(column: str) -> str:
    """A parser-safe identifier for a column name ("cos(theta)" -> "cos_theta", "1/r" -> "x_1_r")."""
    name = re.sub(r"\W+", "_", column.strip()).strip("_") or "x"
    if name[0].isdigit() or keyword.iskeyword(name) or name in _STANDARD or name in _GPLEARN or name == "pi" \
            or PARAM_RE.match(name):
        name = f"x_{name}"
    return name


def make_symbols(names: Iterable[str], *, positive: Iterable[str] = ()) -> dict[str, sympy.Symbol]:
    """Real sympy symbols for variable names (positive=True for the names in `positive`)."""
    pos = set(positive)
    out: dict[str, sympy.Symbol] = {}
    for name in names:
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise ExpressionError(f"variable name {name!r} is not a plain identifier; rename it (e.g. "
                                  f"{safe_name(name)!r}).")
        if name in _STANDARD or name in _GPLEARN or name == "pi" or PARAM_RE.match(name):
            raise ExpressionError(f"variable name {name!r} clashes with a function, 'pi' or a parameter "
                                  f"name c0, c1, ...; rename it (e.g. {safe_name(name)!r}).")
        out[name] = sympy.Symbol(name, positive=True) if name in pos else sympy.Symbol(name, real=True)
    return out


def _check_tokens(text: str, allowed: set[str]) -> None:
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError) as exc:
        raise ExpressionError(f"cannot tokenize expression: {exc}") from None
    for tok in tokens:
        if tok.type in _SKIP:
            continue
        s = tok.string
        if tok.type == tokenize.NAME:
            if s not in allowed:
                raise ExpressionError(f"name {s!r} is not allowed; allowed names: {', '.join(sorted(allowed))} "
                                      f"and free parameters c0, c1, ...")
        elif tok.type == tokenize.NUMBER:
            if not _NUMBER_RE.match(s) or len(s) > 40:
                raise ExpressionError(f"number {s!r} is not allowed; use plain decimal numbers like 2, 0.5, 1e-3")
        elif tok.type == tokenize.OP:
            if s not in _OPS:
                hint = " (attribute access is not allowed)" if s == "." else ""
                raise ExpressionError(f"operator {s!r} is not allowed{hint}; allowed: + - * / ** ^ ( ) ,")
        else:
            raise ExpressionError(f"token {s!r} is not allowed in an expression")


def _constant_value(node: sympy.Basic) -> float:
    """Float value of a symbol-free unevaluated sub-tree, computed in floats so huge powers fail fast."""
    if isinstance(node, sympy.Number) or node in (sympy.pi, sympy.E):
        return float(node)
    args = [_constant_value(a) for a in node.args]
    try:
        if isinstance(node, sympy.Add):
            v = math.fsum(args)
        elif isinstance(node, sympy.Mul):
            v = math.prod(args)
        elif isinstance(node, sympy.Pow):
            if abs(args[1]) > MAX_EXPONENT:
                raise ExpressionError(f"constant exponent {args[1]:g} is too large (limit {MAX_EXPONENT:g})")
            v = float(args[0] ** args[1]) if args[0] >= 0 or float(args[1]).is_integer() else math.nan
        else:
            v = float(node.func(*[sympy.Float(a) for a in args]).evalf())
    except (OverflowError, ZeroDivisionError, TypeError, ValueError) as exc:
        if isinstance(exc, ExpressionError):
            raise
        raise ExpressionError(f"constant sub-expression {node} cannot be evaluated ({type(exc).__name__})") from None
    if not math.isfinite(v) or abs(v) > 1e300:
        raise ExpressionError(f"constant sub-expression {node} is not a finite real number")
    return v


def _validate_tree(expr: sympy.Basic, symbols: set[sympy.Symbol]) -> None:
    count = [0]

    def visit(node: sympy.Basic) -> None:
        count[0] += 1
        if count[0] > MAX_NODES:
            raise ExpressionError(f"expression has more than {MAX_NODES} nodes; simplify it")
        if isinstance(node, sympy.Symbol):
            if node not in symbols:
                raise ExpressionError(f"unknown symbol {node}")
            return
        if isinstance(node, (sympy.Number, sympy.core.numbers.Pi, sympy.core.numbers.Exp1)):
            return
        if not isinstance(node, (sympy.Add, sympy.Mul, sympy.Pow, *_ALLOWED_FUNCS)):
            raise ExpressionError(f"{type(node).__name__} is not an allowed operation")
        if not node.free_symbols:
            _constant_value(node)  # a constant sub-tree: evaluate in floats, never symbolically
            return
        if isinstance(node, sympy.Pow) and not node.args[1].free_symbols:
            v = _constant_value(node.args[1])
            if abs(v) > MAX_EXPONENT:
                raise ExpressionError(f"exponent {v:g} is too large (limit {MAX_EXPONENT:g})")
        for arg in node.args:
            visit(arg)

    visit(expr)


def _rebuild(expr: sympy.Basic) -> sympy.Basic:
    if not expr.args:
        return expr
    return expr.func(*[_rebuild(a) for a in expr.args])


def parse_expression(text: str, symbols: Mapping[str, sympy.Symbol] | Iterable[str], *,
                     dialect: str = "standard", allow_params: bool = True) -> sympy.Expr:
    """Parse expression text into a real sympy expression over the declared variables.

    `symbols` maps variable names to sympy symbols (see `make_symbols`) or lists the names.
    Free parameters are written c0, c1, ... (`C0` is accepted too) when `allow_params`.
    Raises ExpressionError with the reason for anything outside the whitelist.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"expected expression text, got {type(text).__name__}")
    text = text.strip()
    if not text:
        raise ExpressionError("empty expression")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    if "\n" in text or "\r" in text:
        raise ExpressionError("expression must be a single line")
    if dialect not in DIALECTS:
        raise ExpressionError(f"unknown dialect {dialect!r}; use one of {sorted(DIALECTS)}")
    syms = dict(symbols) if isinstance(symbols, Mapping) else make_symbols(symbols)
    clash = [n for n in syms if PARAM_RE.match(n)]
    if clash:
        raise ExpressionError(f"variable names {clash} look like free parameters c0, c1, ...; rename them.")
    funcs = DIALECTS[dialect]
    params: dict[str, sympy.Symbol] = {}
    if allow_params:
        for m in re.finditer(r"\b[cC](\d{1,2})\b", text):
            name = m.group(0)
            if name not in syms:
                params[name] = param_symbol(int(m.group(1)))
    allowed = set(syms) | set(funcs) | set(params) | {"pi"}
    _check_tokens(text, allowed)
    local = {**funcs, **params, **syms, "pi": sympy.pi}
    try:
        raw = parse_expr(text, local_dict=local, global_dict={**_GLOBALS_TEMPLATE, "__builtins__": {}},
                         transformations=(auto_number, convert_xor), evaluate=False)
    except ExpressionError:
        raise
    except Exception as exc:  # sympy raises many types for malformed text; all mean "not a formula"
        raise ExpressionError(f"not a valid formula: {type(exc).__name__}: {exc}") from None
    if not isinstance(raw, sympy.Expr):
        raise ExpressionError(f"not a formula (got {type(raw).__name__})")
    _validate_tree(raw, set(syms.values()) | set(params.values()))
    expr = _rebuild(raw)
    if expr.has(sympy.I, sympy.zoo, sympy.oo, -sympy.oo, sympy.nan):
        raise ExpressionError(f"expression {text!r} is not a finite real formula")
    return expr
