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


class RunInterrupted(GlmtasksError):
    """Training stopped on SIGINT (Ctrl-C) or SIGTERM after saving ``last.ckpt``; ``resume=auto`` continues it.

    The exit code is the shell's for the signal: 130 for SIGINT, 143 for SIGTERM.
    """

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


class WriteError(GlmtasksError):
    """A checkpoint or the export could not be written (a full disk); what was written before is intact."""
