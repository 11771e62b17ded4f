"""Built-in plugin: abstractive summarization (``task=summarization``), scored with ROUGE-1/2/L/Lsum.

The data and model sides are shared with every generation task (:mod:`glmtasks_generation`): a GLM
decoder-only model trained as a prefix LM (loss on summary tokens only), or any T5/BART-style
encoder-decoder model, with greedy or beam-search decoding saved in the export.

Usage::

    python -m glmtasks task=summarization                          # generated match reports, glm-tiny
    python -m glmtasks data=dialogsum                              # DialogSum (selects the task)
    python -m glmtasks data=scitldr task.head_config.num_beams=4   # several references per abstract
    python -m glmtasks data=csl                                    # Chinese: ROUGE on characters
    python -m glmtasks task=summarization backbone=t5-tiny         # an encoder-decoder backbone
    python -m glmtasks task=summarization data.source=files data.train_file=train.jsonl \\
        data.validation_file=dev.jsonl data.source_column=article data.target_column=highlights
"""
