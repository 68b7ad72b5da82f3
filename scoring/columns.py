"""The answers frame's column contract: what storage produces and scoring reads.

A leaf module (imports nothing of the project), so storage can depend on the contract
without depending on scoring's pipeline. One row per answer of a submitted response:

- response_id: the response's random id
- grp: the respondent group ("internal", "external", "expert")
- unit_code: the unit the response belongs to
- duration_band: how long the survey took, as a band of scoring.paradata (nullable integer)
- pace_band: seconds per answered item, as a band of scoring.paradata (nullable integer)
- completed_on: the completion date (datetime64 at midnight)
- question_id: the question answered
- value: the raw answer as stored (str)
"""

from typing import Final

__all__ = ["ANSWER_COLUMNS"]

ANSWER_COLUMNS: Final = (
    "response_id",
    "grp",
    "unit_code",
    "duration_band",
    "pace_band",
    "completed_on",
    "question_id",
    "value",
)
