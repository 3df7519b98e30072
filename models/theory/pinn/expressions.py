"""Safe parsing of user-written formulae (DE matrix entries, boundary values) into sympy, and their evaluation.

Text is parsed with Python's `ast` module and rebuilt node by node into sympy; nothing is passed
to `eval`, `exec` or `sympy.sympify`. Allowed: decimal numbers, the declared variable names,
the constants `pi`, `I` (imaginary unit, also `j`), `E`, the functions `log`/`ln`, `exp`, `sqrt`,
`zeta` (Riemann zeta at an integer, e.g. `zeta(3)`), `polylog(n, z)`, the operators
`+ - * / **` and `^` (rewritten to `**` before parsing: the physicist's power, binding as tightly).
Anything else — attribute access, subscripts, strings, lambdas, unknown names — is rejected
with a message naming it.

`compile_expression` turns a parsed expression into nested closures over numpy (no lambdify,
no generated code); `evaluate` applies one to arrays.
"""
from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import sympy

from hepilot.errors import closest

__all__ = ["ExpressionError", "parse_expression", "compile_expression", "evaluate", "FUNCTIONS", "CONSTANTS",
           "MAX_LENGTH"]

MAX_LENGTH = 1000
_MAX_NODES = 300
_MAX_POWER = 64

FUNCTIONS: dict[str, object] = {
    "log": sympy.log, "ln": sympy.log, "exp": sympy.exp, "sqrt": sympy.sqrt, "zeta": sympy.zeta,
    "polylog": sympy.polylog,
}
CONSTANTS: dict[str, sympy.Expr] = {"pi": sympy.pi, "I": sympy.I, "j": sympy.I, "E": sympy.E}
_BINOPS = {
    ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b, ast.Pow: None,
}


class ExpressionError(ValueError):
    """Formula text that is not allowed or not understood; the message says what and why."""


def _number(value: object) -> sympy.Expr:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpressionError(f"only numbers are allowed as literals, got {value!r}")
    return sympy.Integer(value) if isinstance(value, int) else sympy.Float(value, 17)


def _power(base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
    if exponent.is_number and exponent.is_real and abs(float(exponent)) > _MAX_POWER:
        raise ExpressionError(f"exponent {exponent} is too large (at most {_MAX_POWER})")
    return base**exponent


class _Builder:
    def __init__(self, symbols: Mapping[str, sympy.Symbol]):
        self.symbols = symbols
        self.nodes = 0

    def build(self, node: ast.AST) -> sympy.Expr:
        self.nodes += 1
        if self.nodes > _MAX_NODES:
            raise ExpressionError(f"expression is too long (more than {_MAX_NODES} nodes)")
        if isinstance(node, ast.Expression):
            return self.build(node.body)
        if isinstance(node, ast.Constant):
            return _number(node.value)
        if isinstance(node, ast.Name):
            return self._name(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            arg = self.build(node.operand)
            return -arg if isinstance(node.op, ast.USub) else arg
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            left, right = self.build(node.left), self.build(node.right)
            if isinstance(node.op, ast.Pow):
                return _power(left, right)
            return _BINOPS[type(node.op)](left, right)
        if isinstance(node, ast.Call):
            return self._call(node)
        raise ExpressionError(f"'{type(node).__name__}' is not allowed in a formula "
                              "(use numbers, variables, + - * / ** ^ and log, exp, sqrt, zeta, polylog)")

    def _name(self, name: str) -> sympy.Expr:
        if name in self.symbols:
            return self.symbols[name]
        if name in CONSTANTS:
            return CONSTANTS[name]
        valid = list(self.symbols) + list(CONSTANTS)
        near = closest(name, valid)
        hint = f" Did you mean {', '.join(near)}?" if near else ""
        raise ExpressionError(f"unknown symbol '{name}'; allowed: {', '.join(valid)}.{hint}")

    def _call(self, node: ast.Call) -> sympy.Expr:
        if not isinstance(node.func, ast.Name):
            raise ExpressionError(f"calling a {type(node.func).__name__} is not allowed; "
                                  f"only the functions {', '.join(FUNCTIONS)}")
        if node.func.id not in FUNCTIONS:
            raise ExpressionError(f"unknown function '{node.func.id}'; allowed: {', '.join(FUNCTIONS)}")
        if node.keywords:
            raise ExpressionError(f"{node.func.id}() takes no keyword arguments")
        args = [self.build(a) for a in node.args]
        want = 2 if node.func.id == "polylog" else 1
        if len(args) != want:
            raise ExpressionError(f"{node.func.id}() takes {want} argument(s), got {len(args)}")
        if node.func.id == "zeta" and not (args[0].is_Integer and args[0] >= 2):
            raise ExpressionError("zeta() is only allowed at an integer >= 2, e.g. zeta(3)")
        return FUNCTIONS[node.func.id](*args)


def parse_expression(text: str, symbols: Mapping[str, sympy.Symbol] | Iterable[str]) -> sympy.Expr:
    """Parse formula `text` into sympy, allowing only the given variable names (see module doc)."""
    if not isinstance(text, str):
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = repr(text)
        else:
            raise ExpressionError(f"a formula must be a string or a number, got {type(text).__name__}")
    if not text.strip():
        raise ExpressionError("empty formula")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"formula longer than {MAX_LENGTH} characters")
    table = dict(symbols) if isinstance(symbols, Mapping) else {n: sympy.Symbol(n, real=True) for n in symbols}
    try:
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {text!r}: {exc.msg}") from None
    return _Builder(table).build(tree)


_UNARY = {sympy.log: np.log, sympy.exp: np.exp}


def compile_expression(expr: sympy.Expr, symbols: Sequence[sympy.Symbol]) -> Callable[[np.ndarray], np.ndarray]:
    """A function points (N, len(symbols)) -> values (N,) complex: nested closures over the sympy
    tree (no code generation), constants evaluated once."""
    free = expr.free_symbols - set(symbols)
    if free:
        raise ExpressionError(f"unknown symbol(s) {', '.join(sorted(map(str, free)))}")
    column = {sym: i for i, sym in enumerate(symbols)}

    def build(e: sympy.Basic) -> Callable[[np.ndarray], np.ndarray]:
        if e.is_Symbol:
            i = column[e]
            return lambda p: p[:, i].astype(complex)
        if e.is_number:
            c = complex(e.evalf(17))
            return lambda p: np.full(len(p), c)
        args = [build(a) for a in e.args]
        if e.is_Add:
            return lambda p: functools.reduce(operator.add, (f(p) for f in args))
        if e.is_Mul:
            return lambda p: functools.reduce(operator.mul, (f(p) for f in args))
        if e.is_Pow:
            base, power = args
            if e.exp.is_Integer:
                n = int(e.exp)
                return lambda p: base(p) ** n
            return lambda p: np.power(base(p), power(p))
        if e.func in _UNARY and len(args) == 1:
            fn, arg = _UNARY[e.func], args[0]
            return lambda p: fn(arg(p))
        raise ExpressionError(f"cannot evaluate {e.func} numerically on arrays")

    return build(expr)


def evaluate(expr: sympy.Expr, values: Mapping[sympy.Symbol, np.ndarray]) -> np.ndarray:
    """Evaluate a parsed expression on arrays of equal length (complex128)."""
    symbols = list(values)
    n = len(next(iter(values.values()))) if values else 1
    points = np.stack([np.broadcast_to(np.asarray(values[s], dtype=float), (n,)) for s in symbols], axis=1) \
        if values else np.zeros((1, 0))
    return compile_expression(expr, symbols)(points)
