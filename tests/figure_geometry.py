"""Where things land in a drawn matplotlib figure (display coordinates), for layout tests."""

from __future__ import annotations

import numpy as np
from matplotlib.transforms import Bbox


def node_boxes(fig, coll) -> list[Bbox]:
    """Display-space bounding box of every node marker (a disc of area ``size`` points^2)."""
    xy = coll.get_offset_transform().transform(coll.get_offsets())
    sizes = np.broadcast_to(coll.get_sizes(), (len(xy),))
    lw = np.broadcast_to(coll.get_linewidths(), (len(xy),))
    r = (np.sqrt(sizes) / 2 + lw / 2) * fig.dpi / 72.0
    return [Bbox.from_extents(x - ri, y - ri, x + ri, y + ri) for (x, y), ri in zip(xy, r)]
