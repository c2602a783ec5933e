"""Words for pipeline states and decision outcomes, for the web layer.

The tables live in :mod:`recruit.labels`, below the web layer, so e-mails and PDFs use the
same words; this module keeps the names the web layer has always imported.
"""

from __future__ import annotations

from recruit.labels import (
    OUTCOMES,
    REDACTED,
    REDACTION_KINDS,
    STATES,
    outcome_label,
    state_label,
)

__all__ = ["OUTCOMES", "REDACTED", "REDACTION_KINDS", "STATES", "outcome_label", "state_label"]
