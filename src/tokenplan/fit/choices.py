"""The names ``tokenplan.fit`` accepts for its string options, in a module that imports nothing: the CLI
builds ``tokenplan fit``'s option lists from them without importing the fitting code (``tokenplan --help``
builds every command, and importing ``tokenplan.fit.report`` for five tuples took its CPU from 0.15 to
0.21 s). The modules that use each name import it from here, so there is one list (tests/test_cli_choices.py).
"""

from __future__ import annotations

__all__ = ["APPROACHES", "FORMS", "FORM_CHOICES", "LAW_KINDS", "PROFILES", "REDUCTIONS"]

#: Approach 3's forms (tokenplan.fit.forms), simplest first: ties in --form auto go to the earlier entry
FORMS = ("shared-exponent", "kaplan", "chinchilla", "data-constrained")
#: Approach 2's per-budget profiles (tokenplan.fit.isoflop)
PROFILES = ("parabola", "cubic", "interp")
#: How the Huber losses of the runs are combined: "sum" (correct) or "mean" (the early stop behind Hoffmann
#: et al.'s constants, Besiroglu et al. 2024).
REDUCTIONS = ("sum", "mean")
#: Chinchilla's approaches (tokenplan.fit.report.FitOptions.approach)
APPROACHES = ("1", "2", "3", "all")
#: the law to fit (FitOptions.law)
LAW_KINDS = ("chinchilla", "data-constrained")
#: Approach 3's form (FitOptions.form): auto backtests each of FORMS
FORM_CHOICES = ("auto", *FORMS)
