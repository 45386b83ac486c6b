"""Errors raised by the classifier.

ClassifierError (base)
 ├── TrainingDataMissing   a data file needed for training or evaluation is missing,
 │                         unreadable or not in the expected format
 └── ModelFileError        a saved model file is missing, corrupt, or was written by an
                           incompatible scikit-learn version (run ``rcops train``)

Messages are in Chinese and say what was wrong and what to do.
"""


class ClassifierError(Exception):
    """Base class of every classifier error."""


class TrainingDataMissing(ClassifierError):
    """A training or evaluation data file is missing or malformed."""


class ModelFileError(ClassifierError):
    """A model file cannot be used; the message says to run ``rcops train``."""


__all__ = ["ClassifierError", "TrainingDataMissing", "ModelFileError"]
