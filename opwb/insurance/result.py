"""What a programme paid: annual recoveries per policy and event type, and their parts
(delayed, lost to insurer default, haircut), from :func:`opwb.insurance.apply.apply_programme`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["ProgrammeResult"]


@dataclass(frozen=True)
class ProgrammeResult:
    """Annual results of :func:`apply_programme`; every array has shape ``(n_years,)``.

    Per policy and year the contractual payment splits as
    ``ceded = delayed + default_loss + haircut + recovery``: ``delayed`` is paid after the
    one-year horizon, ``default_loss`` is lost to the insurer's default, ``haircut`` is the
    regulatory haircut, ``recovery`` is recognised within the year. Net loss is gross minus
    ``recovery``; ``*_by_policy_event_type`` are keyed by ``(policy_id, event_type)``.
    """

    n_years: int
    policy_ids: tuple[str, ...]
    event_types: tuple[str, ...]
    gross_by_event_type: dict[str, np.ndarray]
    ceded_by_policy: dict[str, np.ndarray]
    delayed_by_policy: dict[str, np.ndarray]
    default_loss_by_policy: dict[str, np.ndarray]
    haircut_by_policy: dict[str, np.ndarray]
    recovery_by_policy: dict[str, np.ndarray]
    ceded_by_policy_event_type: dict[tuple[str, str], np.ndarray]
    recovery_by_policy_event_type: dict[tuple[str, str], np.ndarray]
    claims_by_policy: dict[str, np.ndarray]
    insurer_default: dict[str, np.ndarray]
    event_ceded_by_policy: dict[tuple[str, str], np.ndarray] | None = None
    _reuse: dict | None = field(default=None, repr=False, compare=False)

    def _by_event_type(self, table: dict[tuple[str, str], np.ndarray]) -> dict[str, np.ndarray]:
        out = {et: np.zeros(self.n_years) for et in self.event_types}
        for (_, et), x in table.items():
            out[et] += x
        return out

    @property
    def claims(self) -> dict[str, np.ndarray]:
        """Number of paid claims per policy and year (alias of ``claims_by_policy``)."""
        return self.claims_by_policy

    @property
    def ceded_by_event_type(self) -> dict[str, np.ndarray]:
        return self._by_event_type(self.ceded_by_policy_event_type)

    @property
    def recovery_by_event_type(self) -> dict[str, np.ndarray]:
        return self._by_event_type(self.recovery_by_policy_event_type)

    @property
    def annual_gross(self) -> np.ndarray:
        return np.sum([self.gross_by_event_type[et] for et in self.event_types], axis=0)

    @property
    def annual_recovery(self) -> np.ndarray:
        return np.sum([np.zeros(self.n_years), *self.recovery_by_policy.values()], axis=0)

    @property
    def annual_ceded(self) -> np.ndarray:
        return np.sum([np.zeros(self.n_years), *self.ceded_by_policy.values()], axis=0)

    @property
    def annual_net(self) -> np.ndarray:
        return self.annual_gross - self.annual_recovery

    @property
    def annual_net_by_event_type(self) -> dict[str, np.ndarray]:
        rec = self.recovery_by_event_type
        return {et: self.gross_by_event_type[et] - rec[et] for et in self.event_types}
