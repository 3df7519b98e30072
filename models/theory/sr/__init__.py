"""Symbolic regression: safe parser, GP backends, Pareto fronts, units, equivalence, guided search.

Entry points: `SymbolicRegressor` (GP backends), `GuidedSymbolicSearch` (LaSR/IdeaSearchFitter-style
search with the offline and LLM proposers), `parse_expression` (the one safe parser),
`symbolic_match` (equivalence up to constants), `EQUATIONS` (the AI Feynman benchmark set).
"""
from hepilot.models.theory.sr.aifeynman import EQUATIONS, get_equation, sample_equation
from hepilot.models.theory.sr.equivalence import compare_to_expected, symbolic_match
from hepilot.models.theory.sr.guided import GuidedSymbolicSearch
from hepilot.models.theory.sr.llm_proposer import LLMProposer
from hepilot.models.theory.sr.parser import ExpressionError, parse_expression
from hepilot.models.theory.sr.proposers import OfflineProposer
from hepilot.models.theory.sr.regressor import SymbolicRegressor

__all__ = ["EQUATIONS", "get_equation", "sample_equation", "compare_to_expected", "symbolic_match",
           "GuidedSymbolicSearch", "LLMProposer", "ExpressionError", "parse_expression", "OfflineProposer",
           "SymbolicRegressor"]
