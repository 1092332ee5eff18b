"""Why a late task was late: what its owner says when completing it in the demo history.

A task completed after its due time carries a cause from the shared cause taxonomy,
as the task page asks for. The cause is drawn, the likeliest most often, from the
step's usual causes, by a random generator seeded with the task itself, so the
stories' own random draws (and their histories) stay as they were.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from andon import clock
from andon.flows import runtime
from andon.flows.models import Task
from andon.identity.models import User

#: a step's usual causes, the likeliest first
BY_STEP = {
    "requirements": ("external.mechanism.requirement_change",
                     "external.people.customer_unavailable",
                     "internal.mechanism.requirement_analysis", "external.system.contract_terms"),
    "build": ("internal.mechanism.estimation_error", "external.mechanism.interface_change",
              "internal.mechanism.resource_conflict", "internal.people.overload",
              "external.mechanism.third_party_dependency", "internal.people.turnover"),
    "internal_test": ("internal.mechanism.environment_tooling",
                      "internal.mechanism.insufficient_testing", "internal.people.overload"),
    "acceptance": ("external.mechanism.acceptance_delay", "external.people.customer_unavailable",
                   "external.system.customer_reorganisation",
                   "internal.mechanism.insufficient_testing"),
    "act": ("internal.people.overload", "internal.mechanism.resource_conflict",
            "internal.mechanism.follow_up"),
}
GENERAL = ("internal.mechanism.planning", "internal.mechanism.coordination",
           "internal.people.overload", "external.people.customer_unavailable",
           "internal.mechanism.follow_up")


def finish(session: Session, task: Task, user: User, form: Mapping[str, Any],
           likely: Sequence[str] = ()) -> Task:
    """Complete a task at the (frozen) time now; past its due time, say why."""
    late = task.due_at is not None and clock.now() > task.due_at
    return runtime.complete_task(session, task.id, user, form,
                                 cause=cause_of(task, likely) if late else None)


def cause_of(task: Task, likely: Sequence[str] = ()) -> str:
    """Return the cause a late task's owner gives, the step's likeliest most often."""
    causes = tuple(likely) or BY_STEP.get(task.step_id, GENERAL)
    draw = random.Random(f"{task.instance_id}:{task.step_id}:{task.id}")
    return draw.choices(causes, weights=range(len(causes) + 1, 1, -1))[0]
