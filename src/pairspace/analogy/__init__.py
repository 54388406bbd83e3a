"""Word analogies as paired embedding spaces (the first case study of arXiv 2411.08687)."""

from .evaluate import AnalogyEvaluation, CategoryScore, evaluate
from .questions import AnalogyCategory, AnalogySet, load_questions
from .vectors import WordVectors, load_vectors

__all__ = ["AnalogyCategory", "AnalogyEvaluation", "AnalogySet", "CategoryScore", "WordVectors",
           "evaluate", "load_questions", "load_vectors"]
