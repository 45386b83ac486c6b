"""Errors raised by the store.

StoreError (base)
 ├── DatabaseUnavailable   the database cannot be reached or opened
 ├── SchemaOutdated        the schema is not at the latest migration
 └── NotFound              a record asked for by id or key does not exist

Messages are in Chinese and say what to do.
"""


class StoreError(Exception):
    """Base class of every store error."""


class DatabaseUnavailable(StoreError):
    pass


class SchemaOutdated(StoreError):
    pass


class NotFound(StoreError):
    pass
