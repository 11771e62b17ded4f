"""User-facing error types: one line that says what is wrong and how to fix it."""


class GlmtasksError(Exception):
    """An error caused by the user's input (config, data, plugin), not by a bug.

    The CLI prints ``error: <message>`` on one line and exits with :attr:`exit_code`;
    no traceback is shown. Messages should name the problem and the fix.
    """

    exit_code = 2


class ConfigError(GlmtasksError):
    """The composed configuration is invalid (unknown key, wrong type, bad value)."""


class DataError(GlmtasksError):
    """Input data is missing, empty or malformed (file, column, label)."""


class PluginError(GlmtasksError):
    """A plugin failed to load or registered something inconsistent."""


class UnknownNameError(GlmtasksError):
    """A task, head, datamodule, metric or backbone name is not registered."""


class RunDirError(GlmtasksError):
    """A run would overwrite the outputs of an earlier run."""


class TrainingError(GlmtasksError):
    """Training cannot go on (for example the loss became NaN or infinite); the message says what to change."""
