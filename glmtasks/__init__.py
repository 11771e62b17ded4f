"""glmtasks: fine-tune GLM-family (and any transformers) models on NLP tasks, one command each.

Plugins import from :mod:`glmtasks.api`, the one declared plugin API; every other module
is internal. The package imports nothing heavy at import time so that
``python -m glmtasks --help`` and ``python -m glmtasks plugins`` answer quickly; torch,
Lightning and transformers are imported by the modules that need them.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
