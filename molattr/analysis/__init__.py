"""From attributions to chemistry: groups (pharmacophores, functional groups, ring systems, SMARTS) and dead features."""
from molattr.analysis.dead_features import Collision, collisions, dead_feature_summary, zero_columns
from molattr.analysis.groups import (
    GROUP_KINDS, Group, compile_smarts, functional_groups, group_table, molecule_groups, pharmacophore_groups,
    ring_systems, smarts_groups,
)
from molattr.analysis.ranking import rank_groups, set_group_tables

__all__ = [
    "Collision", "GROUP_KINDS", "Group", "collisions", "compile_smarts", "dead_feature_summary", "functional_groups",
    "group_table", "molecule_groups", "rank_groups", "pharmacophore_groups", "ring_systems", "set_group_tables", "smarts_groups", "zero_columns",
]
