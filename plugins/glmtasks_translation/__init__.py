"""Built-in plugin: machine translation (``task=translation``), scored with sacreBLEU and chrF.

The direction comes from ``data.source_lang`` and ``data.target_lang``; parallel corpora are
line-aligned text files named with ``{lang}`` (``train.{lang}.gz``) or tables with a column per
language. The data and model sides are shared with every generation task (:mod:`glmtasks_generation`).
The sacreBLEU signature of the reported score is written to ``metrics.json``
(``metric_metadata.sacrebleu.signature``).

Usage::

    python -m glmtasks task=translation                              # generated en -> toy corpus
    python -m glmtasks task=translation data.source_lang=toy data.target_lang=en
    python -m glmtasks data=multi30k                                 # Multi30k de -> en (selects the task)
    python -m glmtasks data=multi30k data.source_lang=en data.target_lang=de
    python -m glmtasks experiment=multi30k_glm_tiny                  # the benchmark of bench/results_generation.md
    python -m glmtasks data=multi30k task.head_config.num_beams=4 task.head_config.length_penalty=0.6
"""
