"""Quarter after quarter: every run recorded, compared with the last one, the change explained.

The seed's strategy process computes "VaR by event type and by policy periodically" and keeps
"each policy's claims in a database" (slide 3-2). This layer turns one evaluation of a case
into a **run record** (:mod:`~opwb.runs.record`: the case's hashes and settings, the fitted
model sets, the figures with their standard errors — never a loss record), writes it to the
run store (:mod:`opwb.data.runstore`: SQLite or PostgreSQL through SQLAlchemy), and compares
two runs (:mod:`~opwb.runs.compare`): what changed in the inputs, the **change attribution**
of the headline figures into valuation date, settings, data and models (each step one input
moved, re-evaluated on common random numbers, so each step is a paired difference with its
standard error and the steps add up to the whole change), the backtest of the new quarter's
losses against the previous run's model, and the trends over every recorded run.

It may import data, analysis and every layer up to :mod:`opwb.decision`; :mod:`opwb.report`
and :mod:`opwb.app` may import it.
"""
from opwb._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    **dict.fromkeys(["record_run", "run_record", "HEADLINE", "RECORDED_FIGURES"], "record"),
    **dict.fromkeys(["compare_runs", "Comparison", "attribution", "backtest", "trends"],
                    "compare"),
})
