"""Follow-up actions (tindak lanjut): who may change which (`plans`), the /tindaklanjut
dialogue (`dialogue`), their texts (`texts`), the follow-up matrix file (`matrix`) and the
due-date reminders to unit heads (`reminders`)."""

from services.actions.dialogue import (
    Step,
    answer,
    attach_document,
    cancel,
    in_progress,
    start_add,
    start_edit,
    start_note,
)
from services.actions.matrix import (
    ActionProblems,
    MatrixResult,
    apply_matrix,
    export_matrix,
    read_matrix,
)
from services.actions.plans import (
    SHOW_BUTTON,
    Action,
    ActionProblem,
    ActionStatus,
    Outcome,
    find_action,
    list_for,
    set_status_for,
)
from services.actions.reminders import ActionReminders, remember_unit_head
from services.actions.texts import (
    action_detail,
    actions_chart_png,
    actions_list,
    outcomes_text,
    overdue_text,
    status_word,
)

__all__ = [
    "SHOW_BUTTON",
    "Action",
    "ActionProblem",
    "ActionProblems",
    "ActionReminders",
    "ActionStatus",
    "MatrixResult",
    "Outcome",
    "Step",
    "action_detail",
    "actions_chart_png",
    "actions_list",
    "answer",
    "apply_matrix",
    "attach_document",
    "cancel",
    "export_matrix",
    "find_action",
    "in_progress",
    "list_for",
    "outcomes_text",
    "overdue_text",
    "read_matrix",
    "remember_unit_head",
    "set_status_for",
    "start_add",
    "start_edit",
    "start_note",
    "status_word",
]
