"""glmtasks-intent: joint intent classification and slot tagging, a third-party glmtasks plugin.

``pip install`` this package and ``python -m glmtasks task=intent_slots`` works: the entry point
``intent = glmtasks_intent.plugin`` in the ``glmtasks`` group registers the task, its head, its
datamodule, its metrics and its configs.
"""

__version__ = "0.1.0"
