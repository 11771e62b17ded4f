"""Simple baselines for the Chinese results of bench/RESULTS_zh.md, on exactly the splits glmtasks uses.

Each baseline reads its data through the data config of the glmtasks run it is compared with
(``data=chnsenticorp``, ``data=cmrc2018``, ``data=csl``), so splits and scoring are the same:

* ``chnsenticorp``: bag-of-words logistic regression (character unigrams and bigrams seen at
  least twice in training, tf binary features, L2-regularised, full-batch L-BFGS in torch; the
  regularisation strength is picked on dev), test accuracy;
* ``cmrc2018``: a sliding-window lexical-overlap baseline: the context is cut into clauses (at
  ``，。；！？``) and the clause sharing most characters with the question (ties: the earlier
  one) is the answer, minus the question's characters at its edges; EM/F1 with the CMRC metric;
* ``csl``: lead-N: the first N characters of the abstract (N = the mean title length of the
  training split) and the first clause of the abstract, ROUGE-1/2/L on characters and on words;
* ``peopledaily``: a gazetteer: every entity string (2+ characters) of the 20,000 training
  sentences the glmtasks run uses, tagged with its most frequent type wherever it occurs
  (longest match first); entity F1 with the NER plugin's metric.

Usage: OMP_NUM_THREADS=1 python bench/zh_baselines.py [chnsenticorp|cmrc2018|csl|peopledaily ...] [--out bench/results/zh_baselines.json]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import time
from collections import Counter
from pathlib import Path


def datamodule(overrides: list[str]):
    """The datamodule (splits read, no tokenizer) of the run composed from ``overrides``."""
    from glmtasks.cli import compose_dict, validate
    from glmtasks.registry import default_registry
    from glmtasks.run import build_datamodule, resolve_task

    config = validate(compose_dict(overrides))
    registry = default_registry()
    return build_datamodule(config, resolve_task(config, registry), registry)


def char_ngrams(text: str) -> list[str]:
    """Character unigrams and bigrams of ``text`` (spaces dropped)."""
    chars = [c for c in text if not c.isspace()]
    return chars + [a + b for a, b in zip(chars, chars[1:])]


def chnsenticorp() -> dict:
    """Bag-of-words logistic regression: dev-selected L2, test accuracy."""
    import torch

    dm = datamodule(["task=sentiment", "data=chnsenticorp"])
    splits = {s: ([r["text_a"] for r in dm.splits[s]], [int(r["label"]) for r in dm.splits[s]]) for s in ("train", "validation", "test")}
    counts = Counter(g for text in splits["train"][0] for g in set(char_ngrams(text)))
    vocab = {g: i for i, g in enumerate(sorted(g for g, n in counts.items() if n >= 2))}

    def features(texts: list[str]) -> torch.Tensor:
        """Binary n-gram presence as a sparse (texts, vocabulary) matrix."""
        rows, cols = [], []
        for row, text in enumerate(texts):
            ids = sorted({vocab[g] for g in char_ngrams(text) if g in vocab})
            rows += [row] * len(ids)
            cols += ids
        indices = torch.tensor([rows, cols])
        return torch.sparse_coo_tensor(indices, torch.ones(len(cols)), (len(texts), len(vocab))).coalesce()

    x = {s: features(splits[s][0]) for s in splits}
    y = {s: torch.tensor(splits[s][1], dtype=torch.float32) for s in splits}
    results = {}
    for l2 in (1e-4, 3e-4, 1e-3, 3e-3, 1e-2):
        torch.manual_seed(0)
        w = torch.zeros(len(vocab), requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        optimizer = torch.optim.LBFGS([w, b], max_iter=200, line_search_fn="strong_wolfe")

        def closure():
            optimizer.zero_grad()
            logits = torch.sparse.mm(x["train"], w[:, None]).squeeze(1) + b  # (N,)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y["train"]) + l2 * (w * w).sum()
            loss.backward()
            return loss

        optimizer.step(closure)
        with torch.no_grad():
            accuracy = {s: float(((torch.sparse.mm(x[s], w[:, None]).squeeze(1) + b > 0).float() == y[s]).float().mean()) for s in ("validation", "test")}
        results[l2] = accuracy
    best = max(results, key=lambda k: results[k]["validation"])
    return {"features": len(vocab), "by_l2": {str(k): v for k, v in results.items()}, "chosen_l2": best,
            "dev_accuracy": results[best]["validation"], "test_accuracy": results[best]["test"]}


CLAUSE = re.compile(r"[^，。；！？,;!?\n]+[，。；！？,;!?]?")


def overlap_answer(context: str, question: str) -> str:
    """The clause of ``context`` sharing most distinct characters with ``question``, trimmed of question characters at its edges."""
    asked = set(question) - set("？?的是了吗呢什么哪谁几多少怎样如何为")
    clauses = CLAUSE.findall(context) or [context]
    best = max(clauses, key=lambda clause: (len(set(clause) & asked), -clauses.index(clause)))
    start, end = 0, len(best)
    while start < end and (best[start] in asked or best[start] in "，。；！？,;!? "):
        start += 1
    while end > start and (best[end - 1] in asked or best[end - 1] in "，。；！？,;!? "):
        end -= 1
    return best[start:end] or best


def cmrc2018() -> dict:
    """Lexical-overlap clause baseline on the held-out-article validation and test splits."""
    from glmtasks_qa.metrics import exact_match_zh, f1_zh

    dm = datamodule(["task=qa", "data=cmrc2018"])
    out = {}
    for split in ("validation", "test"):
        em = f1 = 0.0
        records = dm.splits[split]
        for r in records:
            prediction = overlap_answer(r["context"], r["question"])
            answers = r["answers"]["text"]
            em += max(exact_match_zh(prediction, a) for a in answers)
            f1 += max(f1_zh(prediction, a) for a in answers)
        out[split] = {"questions": len(records), "exact_match": 100 * em / len(records), "f1": 100 * f1 / len(records)}
    return out


def csl() -> dict:
    """Lead-N characters and first-clause baselines, ROUGE on characters and jieba words."""
    from glmtasks_summarization.metrics import Rouge

    dm = datamodule(["data=csl"])
    train_titles = [r["references"][0] for r in dm.splits["train"]]
    n = round(sum(map(len, train_titles)) / len(train_titles))
    out = {"lead_n_chars": n}
    for split in ("validation", "test"):
        records = dm.splits[split]
        refs = [r["references"] for r in records]
        systems = {f"lead-{n} chars": [r["source"][:n] for r in records],
                   "first clause": [CLAUSE.findall(r["source"])[0] if CLAUSE.findall(r["source"]) else r["source"] for r in records]}
        out[split] = {}
        for name, hyps in systems.items():
            scores = {}
            for tokenizer in ("unicode", "zh_words"):
                for kind in ("rouge1", "rouge2", "rougeL"):
                    metric = Rouge(kind, tokenizer=tokenizer, language="zh")
                    metric.update(hyps, refs)
                    scores[f"{kind}_{'chars' if tokenizer == 'unicode' else 'words'}"] = round(float(metric.compute()), 2)
            out[split][name] = scores
    return out


def gazetteer_spans(chars: list[str], lexicon: dict[str, str], longest: int) -> list[tuple[str, int, int]]:
    """Left-to-right longest matches of ``lexicon`` entries (entity text -> type) in a character sequence."""
    spans, i = [], 0
    while i < len(chars):
        for end in range(min(len(chars), i + longest), i, -1):
            entity_type = lexicon.get("".join(chars[i:end]))
            if entity_type:
                spans.append((entity_type, i, end))
                i = end
                break
        else:
            i += 1
    return spans


def peopledaily(train_size: int = 20000) -> dict:
    """Gazetteer baseline: every entity string of the training sentences (its most frequent type), longest match first."""
    from glmtasks_ner.metrics import EntityScores

    dm = datamodule(["task=ner", "data=peopledaily", f"data.max_train_samples={train_size}"])
    seen: dict[str, Counter] = {}
    for record in dm.splits["train"]:
        for entity_type, start, end in record["spans"]:
            seen.setdefault("".join(record["words"][start:end]), Counter())[entity_type] += 1
    lexicon = {text: types.most_common(1)[0][0] for text, types in seen.items() if len(text) > 1}  # one character is too ambiguous
    longest = max(map(len, lexicon))
    out = {"train_sentences": len(dm.splits["train"]), "lexicon": len(lexicon)}
    for split in ("validation", "test"):
        metric = EntityScores(dm.task_info["entity_types"])
        records = dm.splits[split]
        metric.update([gazetteer_spans(r["words"], lexicon, longest) for r in records], [r["spans"] for r in records])
        out[split] = {k: round(float(v), 4) for k, v in metric.compute().items() if k.endswith("f1")}
    return out


BASELINES = {"chnsenticorp": chnsenticorp, "cmrc2018": cmrc2018, "csl": csl, "peopledaily": peopledaily}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"baselines to run: {', '.join(BASELINES)} (default: all)")
    parser.add_argument("--out", default=None, help="also write the results as JSON here")
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in BASELINES]
    if unknown:
        parser.error(f"unknown baseline {unknown[0]}; choose from {', '.join(BASELINES)}")
    results = {}
    for name in args.names or list(BASELINES):
        start, cpu = time.time(), resource.getrusage(resource.RUSAGE_SELF)
        results[name] = BASELINES[name]()
        now = resource.getrusage(resource.RUSAGE_SELF)
        results[name]["cpu_s"] = round(now.ru_utime + now.ru_stime - cpu.ru_utime - cpu.ru_stime, 1)
        results[name]["wall_s"] = round(time.time() - start, 1)
        print(name, json.dumps(results[name], ensure_ascii=False, indent=1), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
