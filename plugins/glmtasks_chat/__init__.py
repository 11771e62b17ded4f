"""The ``chat`` task: supervised fine-tuning of chat models on conversations.

Conversations (``messages``, ShareGPT ``conversations``, Alpaca ``instruction/input/output`` or a
speaker-labelled transcript) are rendered with the tokenizer's own chat template
(``tokenizer.apply_chat_template``; glmtasks' simple template for a tokenizer trained from
scratch, saved with the export). The loss covers assistant tokens only, including the token that
ends each reply, so the model learns to stop. Short conversations are packed into full training
rows without attention across conversation boundaries. Evaluation reports assistant-token
perplexity and, for each conversation's last reply generated from its context, BLEU-4 and
ROUGE-1/2/L.

Modules: :mod:`.config` (options), :mod:`.conversations` (reading formats into messages),
:mod:`.template` (chat templates, supervised-token masks), :mod:`.packing`, :mod:`.data`
(the datamodule), :mod:`.heads`, :mod:`.metrics`, :mod:`.demo`, :mod:`.plugin`.
"""
