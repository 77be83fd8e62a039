"""Imports into the region tree: GeoJSON layers and NBS statistical code tables."""

from .layer import LayerOptions, layer_import, load_features
from .report import ImportReport, Problem
from .statcodes import codes_import

__all__ = [
    "ImportReport",
    "LayerOptions",
    "Problem",
    "codes_import",
    "layer_import",
    "load_features",
]
