"""Errors of triage: incidents, tasks and their life cycles.

TriageError (base)
 ├── IllegalTransition   the incident cannot move from its state to the one asked for
 ├── ConcurrentUpdate    someone else changed the incident since it was read
 ├── IncidentNotFound / TaskNotFound
 └── InvalidAction       an action is missing what it needs (a reason, a known tier …)
"""


class TriageError(Exception):
    """Base class of every triage error."""


class IllegalTransition(TriageError):
    pass


class ConcurrentUpdate(TriageError):
    pass


class IncidentNotFound(TriageError):
    pass


class TaskNotFound(TriageError):
    pass


class InvalidAction(TriageError):
    pass
