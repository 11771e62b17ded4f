"""Packing against padding for task=chat: one training epoch over the same conversations, timed.

Arms (same tokenizer, model, conversations, optimizer; 3+ interleaved repetitions):

* ``packed``: conversations packed into rows of up to ``max_length`` tokens (``data.packing=true``,
  the default), ``batch_size`` rows per step;
* ``padded-grouped``: one conversation per row, batches of similar length (``data.packing=false``);
* ``padded-random``: one conversation per row, random batches (``data.packing=false data.group_by_length=false``).

Each arm runs the glmtasks datamodule (encoding, packing, the training loader and its collator)
and the chat head's forward/backward with AdamW, with no validation. Reported: conversations/s,
supervised tokens/s, the share of padding tokens, steps, and the mean training loss of the epoch.

Usage: python bench/chat_packing.py --data demo --conversations 2000 --reps 3
       python bench/chat_packing.py --data dialogsum --conversations 1500 --reps 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from common import shared_data  # noqa: E402

ARMS = {
    "packed": {"packing": True, "group_by_length": True},
    "padded-grouped": {"packing": False, "group_by_length": True},
    "padded-random": {"packing": False, "group_by_length": False},
}
MODEL = {"hidden_size": 128, "intermediate_size": 512, "num_hidden_layers": 2, "num_attention_heads": 4,
         "num_key_value_heads": 2, "head_dim": 32, "max_position_embeddings": 2048, "attention_dropout": 0.0}


def data_config(data: str, conversations: int, batch_size: int, max_length: int, **arm):
    from glmtasks_chat.config import ChatDataConfig

    common = dict(batch_size=batch_size, max_length=max_length, cache_features=False, **arm)
    if data == "demo":
        return ChatDataConfig(source="demo", demo_train_size=conversations, demo_eval_size=8, **common)
    folder = shared_data() / "dialogsum"
    return ChatDataConfig(source="files", train_file=str(folder / "dialogsum.train.jsonl.gz"), validation_file=str(folder / "dialogsum.dev.jsonl"),
                          conversation_format="transcript", speaker_roles={"#Person1#": "user", "#Person2#": "assistant"},
                          invalid_rows="skip", max_train_samples=conversations, **common)


def run_arm(name: str, args, tokenizer_cache: dict) -> dict:
    from glmtasks.api import BackboneConfig, train_bpe_tokenizer
    from glmtasks_chat.config import ChatHeadConfig
    from glmtasks_chat.data import ChatDataModule
    from glmtasks_chat.heads import make_chat_head

    torch.manual_seed(0)
    datamodule = ChatDataModule(data_config(args.data, args.conversations, args.batch_size, args.max_length, **ARMS[name]))
    if "tokenizer" not in tokenizer_cache:  # one tokenizer for every arm (trained once, copied)
        tokenizer_cache["tokenizer"] = train_bpe_tokenizer(datamodule.training_texts(), 4000)
    import copy

    tokenizer = copy.deepcopy(tokenizer_cache["tokenizer"])
    datamodule.set_tokenizer(tokenizer)
    datamodule.setup("fit")
    head = make_chat_head(BackboneConfig(name="glm-tiny", model_config=MODEL), tokenizer, datamodule.task_info, ChatHeadConfig())
    head.train()
    optimizer = torch.optim.AdamW(head.parameters(), lr=5e-4)
    loader = datamodule.train_dataloader()
    steps, losses, real, total, supervised = 0, [], 0, 0, 0
    started = time.perf_counter()
    for batch in loader:
        loss = head(batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        steps += 1
        losses.append(float(loss))
        ids = batch["input_ids"]
        total += ids.numel()
        real += int(ids.numel() - (ids == tokenizer.pad_token_id).sum())
        supervised += int((batch["labels"] != -100).sum())
    seconds = time.perf_counter() - started
    conversations = len(datamodule.splits["train"])
    return {"arm": name, "seconds": round(seconds, 2), "conversations_per_s": round(conversations / seconds, 1),
            "supervised_tokens_per_s": round(supervised / seconds, 1), "padding_share": round(1 - real / total, 3),
            "steps": steps, "mean_loss": round(statistics.mean(losses), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("demo", "dialogsum"), default="demo")
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(BENCH / "results" / "chat_packing.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cache: dict = {}
    results = []
    for rep in range(args.reps):
        for name in ARMS:
            result = {"rep": rep, **run_arm(name, args, cache)}
            print(json.dumps(result), flush=True)
            results.append(result)
    summary = {}
    for name in ARMS:
        rows = [r for r in results if r["arm"] == name]
        speeds = [r["conversations_per_s"] for r in rows]
        summary[name] = {"conversations_per_s_median": statistics.median(speeds), "min": min(speeds), "max": max(speeds),
                         "padding_share": rows[0]["padding_share"], "steps": rows[0]["steps"], "mean_loss": rows[0]["mean_loss"]}
    base = summary["padded-grouped"]["conversations_per_s_median"]
    for name in ARMS:
        summary[name]["speedup_vs_padded_grouped"] = round(summary[name]["conversations_per_s_median"] / base, 2)
    print(json.dumps(summary, indent=1))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"args": vars(args), "runs": results, "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
