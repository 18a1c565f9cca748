"""A diverging colour scale centred on zero with symmetric limits."""
from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

import matplotlib
import numpy as np

from molattr.errors import AttributionInputError

Colour = tuple[float, float, float]

#: Default colour map: blue lowers the score, red raises it (white is zero).
DEFAULT_CMAP = "RdBu_r"


@dataclass(frozen=True)
class DivergingScale:
    """Maps ``[-vmax, vmax]`` onto a diverging colour map, zero onto its centre (white for ``RdBu_r``).

    ``vmax`` is the largest absolute finite value drawn (1.0 when every value is zero, so that
    zero maps to the centre and nothing raises). NaN values get ``nan_colour`` (light grey).
    """

    vmax: float
    cmap: str = DEFAULT_CMAP
    nan_colour: Colour = (0.85, 0.85, 0.85)

    @classmethod
    def symmetric(cls, values: Iterable[np.ndarray], cmap: str = DEFAULT_CMAP, vmax: float | None = None) -> "DivergingScale":
        """The scale whose limits are ``±max |value|`` over all finite values (or ``±vmax`` when given)."""
        if vmax is not None and not (isinstance(vmax, (int, float, np.number)) and 0 < vmax < math.inf):
            raise AttributionInputError(f"vmax must be a positive finite number (got {vmax!r})")
        if vmax is None:
            finite = [np.abs(v[np.isfinite(v)]) for v in (np.asarray(x, dtype=float) for x in values)]
            vmax = max((float(f.max()) for f in finite if f.size), default=0.0)
            if vmax == 0:  # all values zero (or none finite): any scale draws them white
                vmax = 1.0
        _colormap(cmap)  # an unknown name raises here, not mid-drawing
        return cls(float(vmax), cmap)

    def colour(self, value: float) -> Colour:
        """RGB in [0, 1] for one value (clipped to the limits)."""
        if not math.isfinite(value):
            return self.nan_colour
        position = 0.5 + 0.5 * max(-1.0, min(1.0, value / self.vmax))
        r, g, b, _ = _colormap(self.cmap)(position)
        return (float(r), float(g), float(b))

    def hex(self, value: float) -> str:
        """``#rrggbb`` for one value."""
        return "#" + "".join(f"{round(255 * c):02x}" for c in self.colour(value))


@cache
def _colormap(name: str) -> matplotlib.colors.Colormap:
    """The named colour map, made once: ``matplotlib.colormaps[name]`` returns a new copy each time,
    which rebuilds its lookup table on first use (0.4 ms per colour, most of a heatmap's drawing)."""
    return matplotlib.colormaps[name]
