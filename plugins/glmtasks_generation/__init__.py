"""Conditional text generation (source text -> target text), shared by the generation task plugins.

Summarization, translation and third-party generation tasks build on this package without
knowing each other; it registers no task. :mod:`glmtasks_generation.data` holds the data side
(reading source/reference tables, prompt and target formatting, batching) on top of
``glmtasks.api.TaskDataModule``; :mod:`glmtasks_generation.heads` the model side (a head that
trains decoder-only models as prefix LMs and encoder-decoder models on their labels, and
generates in batches with a KV cache). A task plugin brings its readers, demo data, metrics
and configs, and registers a head pointing at ``glmtasks_generation.heads:make_generation_head``
with ``config_class="glmtasks_generation.config:GenerationHeadConfig"``.

Formatting, one rule for every architecture:

* prompt: ``data.prompt`` with ``{source}`` filled in, encoded by the tokenizer *with* its
  own special tokens, i.e. exactly ``tokenizer(prompt)``: ``prompt <eos>`` for the BPE
  tokenizer trained from scratch, ``prompt </s>`` for T5, ``[gMASK]<sop> prompt`` for GLM-4.
* target: the reference encoded *without* special tokens, then ``eos``.

The datamodule gives both (right-padded); the head lays them out for its model:

* decoder-only (GLM): one causal sequence ``prompt + target``; the loss covers target tokens
  only (a prefix LM: the prompt conditions, it is not learned). Attention over the prompt
  stays causal, so that plain ``generate()`` on the export reproduces training exactly.
  For generation, prompts are moved to the left (left padding) so that every row's next
  token is in the last column and the KV cache advances in lockstep.
* encoder-decoder (T5, BART): the prompt feeds the encoder, the target is the decoder's labels.

Hence plain transformers reproduces a run's outputs from its ``export/``:
``tokenizer(prompts, padding=True, return_tensors="pt")`` then ``model.generate(**inputs)``:
the exported tokenizer pads on the left for decoder-only models, and the exported
``generation_config.json`` holds the run's generation settings (beams, length penalty, ...).
LoRA adapters are merged into the exported weights, so the same holds for ``peft=lora`` runs.
"""
