"""Errors that are the user's to fix, and the outcomes of a run that are not errors of the program.

Everything derived from :class:`GridzooError` is reported by the CLI as one message with exit code 2 and no
traceback. :class:`TrainingDiverged` exits with 3 and :class:`TrainingInterrupted` with 130. Anything else is a
bug (in gridzoo or a plugin): the CLI prints one line saying where the full traceback was written and exits 70.
"""

from __future__ import annotations


class GridzooError(Exception):
    """A problem with the user's input: a config, a name, a file. The message says what to change."""


class ConfigError(GridzooError):
    """An experiment or component config failed validation; the message names every bad dotted path."""


class UnknownComponentError(GridzooError, KeyError):
    """No component of that kind is registered under that name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class AmbiguousComponentError(GridzooError, KeyError):
    """Two or more distributions register the same name; the user must say ``DIST:NAME``."""

    def __str__(self) -> str:
        return str(self.args[0])


class PluginLoadError(GridzooError):
    """A plugin's entry point could not be imported or does not provide a valid component."""


class PluginError(GridzooError):
    """A plugin raised while a component was being built from a valid config: the plugin's problem, named."""


class IncompatibleComponentsError(GridzooError):
    """The named components cannot be combined (for example an encoder that cannot decode positions)."""


class ResourceError(GridzooError):
    """The experiment would not fit: not enough memory for its sizes, or a device that is not there."""


class FolderLockedError(GridzooError):
    """Another process is working in this run or sweep folder."""


class TrainingDiverged(Exception):
    """The loss or the weights stopped being finite: the run is recorded as diverged, never as finished."""

    def __init__(self, run_dir: object, step: int, reason: str) -> None:
        super().__init__(
            f"training diverged at step {step}: {reason}. The run is recorded as diverged in {run_dir}/run.json and "
            "no model was written. Start a new run with a smaller training.lr or with training.grad_clip."
        )
        self.run_dir = run_dir
        self.step = step
        self.reason = reason


class TrainingInterrupted(Exception):
    """Training stopped on Ctrl-C after saving a checkpoint (not a user error; the CLI exits 130)."""

    def __init__(self, run_dir: object, step: int) -> None:
        super().__init__(f"interrupted at step {step}; resume with: gridzoo train --resume {run_dir}")
        self.run_dir = run_dir
        self.step = step

    def __reduce__(self):  # picklable across a process pool (the message is not the constructor's argument)
        return type(self), (self.run_dir, self.step)


class SweepInterrupted(TrainingInterrupted):
    """A run of a sweep was interrupted (Ctrl-C, SIGTERM): the sweep stops, and rerunning it resumes that run."""

    def __init__(self, sweep_dir: object, run_id: str, step: int) -> None:
        Exception.__init__(self, f"sweep interrupted in run {run_id} at step {step}; rerun the same gridzoo sweep "
                                 f"command to resume it (the finished runs are kept)")
        self.sweep_dir, self.run_id, self.step = sweep_dir, run_id, step
        self.run_dir = f"{sweep_dir}/runs/{run_id}"  # the interrupted run's own folder

    def __reduce__(self):
        return type(self), (self.sweep_dir, self.run_id, self.step)
