"""glmtasks: fine-tune GLM-family (and any transformers) models on NLP tasks, one command each.

The package imports nothing heavy at import time so that ``python -m glmtasks --help``
and ``python -m glmtasks plugins`` answer quickly; torch, Lightning and transformers are
imported by the modules that need them.
"""

from glmtasks.plugins import hookimpl
from glmtasks.specs import DataModuleSpec, HeadSpec, MetricSpec, TaskSpec

__version__ = "0.1.0"
__all__ = ["hookimpl", "TaskSpec", "HeadSpec", "DataModuleSpec", "MetricSpec", "__version__"]
