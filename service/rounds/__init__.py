"""Assessment rounds: evaluators rate scenarios on a frozen scheme and frozen inputs, leaders sign off.

- :mod:`.inputs` freezes a round's scheme and inputs (the only part that reads the warehouse);
- :mod:`.scoring` scores a round from its frozen inputs plus the submitted ratings (the API and
  ``dtscope score --round`` both call it), and reports rater agreement;
- :mod:`.core` the state machine (``open → submitted → approved``, ``returned → open``, revisions), each
  write under the round's row lock and audited.
"""

from __future__ import annotations

from service.rounds.core import RoundError

__all__ = ["RoundError"]
