"""Errors users see. Each message is one sentence that names the bad value and says how to fix it."""


class IncisionError(Exception):
    """Base class for every error incision raises on purpose."""


class InputError(IncisionError, ValueError):
    """Bad texts, records or files given as input."""


class ConfigError(IncisionError, ValueError):
    """An option with a value it cannot take."""


class CaptureError(IncisionError, ValueError):
    """A capture that cannot store what the model produced (e.g. float16 overflow)."""


class SiteError(IncisionError, KeyError):
    """A hook site that does not exist on the model."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class ModelNotFoundError(IncisionError, LookupError):
    """A model name or path that cannot be loaded."""


class StoreError(IncisionError):
    """An activation store that is missing, inconsistent or corrupted."""
