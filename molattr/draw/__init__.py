"""Pictures of attributions: 2D heatmaps (RDKit), 3D views (py3Dmol), saturation plots (matplotlib)."""
from molattr.draw.colors import DivergingScale
from molattr.draw.heatmap2d import Picture, draw_comparison, draw_grid, draw_heatmap
from molattr.draw.saturation import plot_saturation
from molattr.draw.view3d import EmbeddingWarning, embed, view_3d, write_3d_html

__all__ = [
    "DivergingScale", "EmbeddingWarning", "Picture", "draw_comparison", "draw_grid", "draw_heatmap", "embed",
    "plot_saturation", "view_3d", "write_3d_html",
]
