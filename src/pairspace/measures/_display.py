"""How an NNGS curve shows itself: a one-line ``repr`` (not its arrays), a small HTML table in
notebooks, and the whole curve as a DataFrame (:class:`~pairspace.measures.nngs.NNGSCurve` mixes
this in)."""

from __future__ import annotations

from typing import Any

import numpy as np


class CurveDisplay:
    """``repr``, ``_repr_html_`` and ``to_pandas`` of a curve with ``k``, ``nngs``, ``chance``,
    ``normalized``, ``n`` and ``metric``."""

    def __repr__(self) -> str:
        """A one-line summary (the arrays are in the fields, :meth:`to_pandas` tabulates them)."""
        if self.k.size == 0:
            return f"NNGSCurve(n={self.n}, empty)"
        i = int(np.argmax(self.normalized)) if np.isfinite(self.normalized).any() else 0
        return (f"NNGSCurve(n={self.n}, k={int(self.k[0])}..{int(self.k[-1])}, metric={self.metric!r}, "
                f"nngs@{int(self.k[-1])}={self.nngs[-1]:.4f} (chance {self.chance[-1]:.4f}), "
                f"best normalized {self.normalized[i]:.4f} at k={int(self.k[i])})")

    def to_pandas(self) -> Any:
        """The curve as a :class:`pandas.DataFrame` indexed by ``k`` (columns ``nngs``, ``chance``,
        ``normalized``)."""
        import pandas as pd

        return pd.DataFrame({"nngs": self.nngs, "chance": self.chance, "normalized": self.normalized},
                            index=pd.Index(self.k, name="k"))

    def _repr_html_(self) -> str:
        """Notebooks: the summary line and the curve at k = 1, 10, 100, ... and its last k."""
        import html

        ks = sorted({int(v) for v in self.k if v in (1, 10, 100, 1000, 10000)} | {int(self.k[-1])})
        rows = "".join(f"<tr><td>{k}</td><td>{float(self.nngs[self.k == k][0]):.4f}</td>"
                       f"<td>{self.chance[self.k == k][0]:.4f}</td>"
                       f"<td>{self.normalized[self.k == k][0]:.4f}</td></tr>" for k in ks)
        return (f"<p>{html.escape(repr(self))}</p><table><tr><th>k</th><th>NNGS</th><th>chance</th>"
                f"<th>normalized</th></tr>{rows}</table>")
