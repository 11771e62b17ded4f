"""DialogSum as conversations (task=chat): glm-tiny learns #Person2#'s turns; scored against two baselines.

The model: ``python -m glmtasks data=dialogsum_chat`` with the overrides below (glm-tiny from
scratch, a subset of the 12,460 training dialogues). The checkpoint is selected on 200 training
dialogues held out as validation; reported are the dev dialogues (those with two speakers), as
the test split: each one's last #Person2# turn is generated from what precedes it.

Baselines, scored with the same ROUGE (rouge-score, English words, Porter stemmer) on the same
dev conversations:

* ``retrieval``: the reply that followed the most similar #Person1# turn in the training
  dialogues (TF-IDF cosine over words of the last user turn; every (user turn, reply) pair of the
  same training subset);
* ``most frequent``: the training set's most frequent reply, for every dialogue.

Usage: python bench/chat_dialogsum.py --train 4000 --epochs 3          (writes bench/results/chat_dialogsum.json)
"""

from __future__ import annotations

import argparse
import json
import math
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
from common import shared_data  # noqa: E402

WORD = re.compile(r"[a-z0-9']+")
HELD_OUT = 200
"""Training dialogues held out as the validation split that selects the checkpoint; the dev set is only reported."""


def conversations(train: int):
    """Training and dev conversations exactly as the run reads them (same subset, same skipped rows)."""
    from glmtasks_chat.config import ChatDataConfig
    from glmtasks_chat.data import ChatDataModule

    folder = shared_data() / "dialogsum"
    config = ChatDataConfig(source="files", train_file=str(folder / "dialogsum.train.jsonl.gz"), validation_size=HELD_OUT,
                            test_file=str(folder / "dialogsum.dev.jsonl"), conversation_format="transcript", speaker_roles={"#Person1#": "user", "#Person2#": "assistant"},
                            invalid_rows="skip", max_train_samples=train, language="en")
    datamodule = ChatDataModule(config)
    return datamodule.splits["train"], datamodule.splits["test"], datamodule.task_info


def last_reply(messages):
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    return messages[:last], messages[last]["content"]


def tfidf(texts):
    counts = [Counter(WORD.findall(t.lower())) for t in texts]
    df = Counter(w for c in counts for w in c)
    idf = {w: math.log(len(texts) / n) + 1 for w, n in df.items()}
    vectors = []
    for c in counts:
        v = {w: n * idf[w] for w, n in c.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vectors.append({w: x / norm for w, x in v.items()})
    return vectors, idf


def retrieval_replies(train, dev):
    """For each dev context: the reply that followed the training user turn most similar to its last user turn."""
    pairs = [(m[i - 1]["content"], m[i]["content"]) for rec in train for m in [rec["messages"]]
             for i in range(1, len(m)) if m[i]["role"] == "assistant" and m[i - 1]["role"] == "user"]
    vectors, idf = tfidf([q for q, _ in pairs])
    index: dict[str, list[tuple[int, float]]] = {}
    for k, v in enumerate(vectors):
        for w, x in v.items():
            index.setdefault(w, []).append((k, x))
    out = []
    for rec in dev:
        context, _ = last_reply(rec["messages"])
        query = next((m["content"] for m in reversed(context) if m["role"] == "user"), "")
        counts = Counter(WORD.findall(query.lower()))
        v = {w: n * idf.get(w, 0.0) for w, n in counts.items()}
        scores: Counter = Counter()
        for w, x in v.items():
            for k, y in index.get(w, ()):
                scores[k] += x * y
        best = scores.most_common(1)[0][0] if scores else 0
        out.append(pairs[best][1])
    return out, Counter(a for _, a in pairs).most_common(1)[0][0]


def rouge(hypotheses, references, task_info):
    from glmtasks_chat.metrics import rouge1, rouge2, rougeL

    scores = {}
    for name, factory in (("reply_rouge1", rouge1), ("reply_rouge2", rouge2), ("reply_rougeL", rougeL)):
        metric = factory(task_info)
        metric.update(hypotheses, [[r] for r in references])
        scores[name] = round(float(metric.compute()), 2)
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=4000, help="training dialogues (data.max_train_samples)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", default=str(BENCH / "results" / "chat_dialogsum.json"))
    parser.add_argument("--skip-run", help="an existing run directory to score instead of training")
    args = parser.parse_args()
    train, dev, task_info = conversations(args.train)
    references = [last_reply(rec["messages"])[1] for rec in dev]
    retrieved, frequent = retrieval_replies(train, dev)
    result = {"train_dialogues": len(train), "dev_dialogues": len(dev),
              "retrieval": rouge(retrieved, references, task_info),
              "most_frequent": {"reply": frequent, **rouge([frequent] * len(dev), references, task_info)}}
    if args.skip_run:
        run_dir = Path(args.skip_run)
        seconds = None
    else:
        dev = shared_data() / "dialogsum" / "dialogsum.dev.jsonl"
        overrides = [f"data.max_train_samples={args.train}", "data.validation_file=null", f"data.validation_size={HELD_OUT}", f"data.test_file={dev}", f"trainer.max_epochs={args.epochs}", "callbacks.progress_bar=false",
                     "data.eval_batch_size=50", "optimizer.lr=1e-3", f"paths.output_dir={BENCH / 'results' / 'outputs'}"]
        started = time.time()
        done = subprocess.run([sys.executable, "-m", "glmtasks", "data=dialogsum_chat", *overrides], capture_output=True, text=True, cwd=REPO)
        seconds = round(time.time() - started, 1)
        if done.returncode != 0:
            sys.exit(done.stderr[-3000:])
        run_dir = Path(next(line.split(": ", 1)[1] for line in done.stdout.splitlines()[::-1] if line.startswith("run directory: ")))
        result["command"] = "python -m glmtasks data=dialogsum_chat " + " ".join(overrides[:-1])
    metrics = json.loads((run_dir / "metrics.json").read_text())
    result["glmtasks"] = {**{k.split("/", 1)[1]: round(v, 3) for k, v in metrics["test"].items()}, "process_seconds": seconds,
                          "fit_seconds": metrics.get("fit_seconds"), "steps": metrics.get("global_steps"), "run_dir": str(run_dir)}
    print(json.dumps(result, indent=1, ensure_ascii=False))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
