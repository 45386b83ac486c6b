"""Errors of the tier and response-plan definitions.

PlanError (base)
 └── PlanValidationError   a rules file or edit is invalid; ``problems`` lists each one
                           as "位置：说明" so the administrator can fix the file
"""


class PlanError(Exception):
    """Base class of every plans error."""


class PlanValidationError(PlanError):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("分级与预案定义无效：\n" + "\n".join(f"- {p}" for p in problems))
