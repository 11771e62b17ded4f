"""The chat head learns replies and where they end: trained briefly, it answers and stops by itself."""

from __future__ import annotations

import torch

from glmtasks.api import BackboneConfig, train_bpe_tokenizer
from glmtasks_chat.config import ChatHeadConfig
from glmtasks_chat.heads import make_chat_head
from glmtasks_chat.packing import pack_features
from glmtasks_chat.template import encode_conversation, prepare_tokenizer

CHATS = [
    [{"role": "user", "content": "Where is order 12?"}, {"role": "assistant", "content": "Order 12 is on its way."},
     {"role": "user", "content": "Thanks"}, {"role": "assistant", "content": "You are welcome."}],
    [{"role": "user", "content": "退款"}, {"role": "assistant", "content": "请提供订单号。"}],
    [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi! How can I help?"}],
]


def trained_head():
    torch.manual_seed(0)
    tokenizer = train_bpe_tokenizer([m["content"] for chat in CHATS for m in chat] * 10, 300)
    prepare_tokenizer(tokenizer, None)
    backbone = BackboneConfig(name="tiny", model_config={"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                                                         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16})
    head = make_chat_head(backbone, tokenizer, {"max_target_length": 40}, ChatHeadConfig())
    rows = pack_features([dict(zip(("input_ids", "labels"), encode_conversation(tokenizer, chat))) for chat in CHATS], 512)
    batch = {key: torch.tensor([rows[0][key]]) for key in ("input_ids", "labels", "position_ids")}
    assert len(rows) == 1, "the three conversations fit one packed row"
    optimizer = torch.optim.AdamW(head.parameters(), lr=3e-3)
    head.train()
    for _ in range(150):
        loss = head(batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return head.eval(), tokenizer


def test_a_trained_tiny_model_answers_and_stops_at_the_end_of_each_reply():
    head, tokenizer = trained_head()
    max_new = head.model.generation_config.max_new_tokens
    for chat in CHATS:
        for turn in range(1, len(chat), 2):
            pieces = []
            reply = head.reply(chat[:turn], pieces.append)
            assert reply == chat[turn]["content"]
            assert "".join(pieces).strip() == reply, "the streamed pieces are the reply"
            ids = tokenizer(tokenizer.apply_chat_template(chat[:turn], tokenize=False, add_generation_prompt=True),
                            add_special_tokens=False, return_tensors="pt")["input_ids"]
            out = head.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids))
            assert out.shape[1] - ids.shape[1] < max_new, "generation ended at a stop token, not at max_new_tokens"
            assert out[0, -1].item() in (tokenizer.eos_token_id,)


def test_generation_config_holds_the_decoding_settings_and_the_templates_stop_tokens():
    tokenizer = train_bpe_tokenizer(["a b c"] * 5, 300)
    prepare_tokenizer(tokenizer, None)
    backbone = BackboneConfig(name="tiny", model_config={"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
                                                         "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 16})
    head = make_chat_head(backbone, tokenizer, {"max_target_length": 7}, ChatHeadConfig(num_beams=2))
    generation = head.model.generation_config
    assert generation.eos_token_id == tokenizer.eos_token_id and generation.max_new_tokens == 7 and generation.num_beams == 2
    assert not generation.do_sample and tokenizer.padding_side == "left"
