"""Integration rules over alpha in [0, 1]: nodes and weights that sum to 1 (to rounding).

Kept apart from the engine (as in Captum's ``approximation_methods``), but every rule here
integrates over [0, 1] with weights summing to 1, including the trapezoid rule (whose Captum
weights sum to ``1 - 1/n``).
"""
from __future__ import annotations

from enum import Enum

import numpy as np

from molattr.errors import AttributionInputError
from molattr.integers import is_integer_at_least


class Method(str, Enum):
    """Quadrature rule for the path integral."""

    RIEMANN_LEFT = "riemann_left"
    RIEMANN_RIGHT = "riemann_right"
    RIEMANN_MIDDLE = "riemann_middle"
    TRAPEZOID = "trapezoid"
    GAUSS_LEGENDRE = "gauss_legendre"
    ADAPTIVE = "adaptive"


def parse_method(method: Method | str) -> Method:
    """``method`` as a :class:`Method`.

    Raises:
        AttributionInputError: an unknown name, listing the known ones.
    """
    try:
        return Method(method)
    except ValueError:
        known = ", ".join(m.value for m in Method)
        raise AttributionInputError(f"unknown method {method!r} (known: {known})") from None


#: Most Gauss–Legendre nodes: NumPy's ``leggauss`` builds an n × n companion matrix (8 MB at 1024
#: nodes, 80 GB at 10⁵), and a smooth path needs far fewer than this.
MAX_GAUSS_LEGENDRE_NODES = 4096


def check_n_steps(method: Method, n_steps: int) -> int:
    """``n_steps`` of a fixed rule, as an ``int`` (NumPy integers accepted).

    Raises:
        AttributionInputError: not an integer (``True`` is not one), fewer than the rule needs
            (the trapezoid rule has both end points, so it needs 2), or more Gauss–Legendre nodes
            than :data:`MAX_GAUSS_LEGENDRE_NODES`.
    """
    minimum = 2 if method is Method.TRAPEZOID else 1
    if not is_integer_at_least(n_steps, minimum):
        raise AttributionInputError(f"n_steps must be an integer >= {minimum} for {method.value} (got {n_steps!r})")
    if method is Method.GAUSS_LEGENDRE and n_steps > MAX_GAUSS_LEGENDRE_NODES:
        raise AttributionInputError(f"n_steps={n_steps} is over {MAX_GAUSS_LEGENDRE_NODES} Gauss-Legendre nodes (NumPy "
                                    "builds an n x n matrix for them); use fewer, or a Riemann rule")
    return int(n_steps)


def nodes_and_weights(method: Method | str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Alphas and weights of a fixed rule on [0, 1].

    Shapes: returns ``alphas [n]``, ``weights [n]`` (float64, ``weights.sum()`` is 1 to rounding). The
    trapezoid rule has ``n_steps`` nodes including both end points, so it needs ``n_steps >= 2``.

    Raises:
        AttributionInputError: unknown method, ``adaptive`` (not a fixed rule), or too few steps.
    """
    method = parse_method(method)
    if method is Method.ADAPTIVE:
        raise AttributionInputError("adaptive is not a fixed rule: the engine chooses its nodes")
    n = check_n_steps(method, n_steps)
    if method is Method.GAUSS_LEGENDRE:
        x, w = np.polynomial.legendre.leggauss(n)
        return (x + 1.0) / 2.0, w / 2.0
    if method is Method.TRAPEZOID:
        alphas = np.linspace(0.0, 1.0, n)
        weights = np.full(n, 1.0 / (n - 1))
        weights[[0, -1]] /= 2.0
        return alphas, weights
    offset = {Method.RIEMANN_LEFT: 0.0, Method.RIEMANN_RIGHT: 1.0, Method.RIEMANN_MIDDLE: 0.5}[method]
    return (np.arange(n) + offset) / n, np.full(n, 1.0 / n)
