"""The Chinese variant of the generated sentiment set (``data.language=zh``): hotel and shop reviews.

Our own templates, built like the English set: negation flips polarity (``房间不干净``),
contrast makes the second clause decide (``位置很方便，但是服务太差``), concessions do the same
(``虽然……，但……``), ``而且`` joins clauses of one polarity, and rarer constructions are harder
(``本来可以更好`` is negative, ``再好不过`` positive, ``说不上满意`` negative). There are no
spaces between words, as in real Chinese text.
"""

from __future__ import annotations

import random

from glmtasks_classification.demo import compose_review

SUBJECTS = [
    "酒店", "房间", "服务", "早餐", "位置", "前台", "床", "价格", "环境", "设施", "卫生间", "空调",
    "这本书", "物流", "包装", "屏幕", "电池", "键盘", "客服", "质量", "网速", "隔音", "餐厅", "停车场",
]
POSITIVE = ["好", "不错", "干净", "舒适", "方便", "热情", "满意", "实惠", "安静", "周到", "精彩", "划算", "宽敞", "快", "漂亮", "新"]
NEGATIVE = ["差", "脏", "吵", "贵", "糟糕", "失望", "简陋", "冷淡", "旧", "慢", "难用", "破", "小", "乱", "差劲", "敷衍"]
INTENSIFIERS = ["", "", "很", "非常", "挺", "特别", "比较", "太", "十分", "真", "相当"]
NEGATIONS = ["不", "不太", "一点也不", "并不", "没那么"]
OPENERS = ["", "", "", "总的来说，", "说实话，", "我觉得", "感觉", "这次入住，", "老实说，", "整体上"]
ENDINGS = ["。", "。", "！", "~~", "…"]


def _clause(rng: random.Random) -> tuple[str, int]:
    """One clause and its polarity (1 positive, 0 negative)."""
    positive = rng.random() < 0.5
    adjective = rng.choice(POSITIVE if positive else NEGATIVE)
    subject = rng.choice(SUBJECTS)
    rare = rng.random()
    if rare < 0.06:
        return f"{subject}本来可以更{rng.choice(POSITIVE)}", 0
    if rare < 0.10:
        return f"{subject}再{rng.choice(POSITIVE)}不过了", 1
    if rare < 0.14:
        return f"{subject}说不上{rng.choice(POSITIVE)}", 0
    if rng.random() < 0.3:
        return f"{subject}{rng.choice(NEGATIONS)}{adjective}", int(not positive)
    return f"{subject}{rng.choice(INTENSIFIERS)}{adjective}", int(positive)


def sentence(rng: random.Random) -> tuple[str, int]:
    """A review and its label: a clause, a 但是/不过 contrast, a 虽然……但 concession or a 而且 pair."""
    return compose_review(
        rng, _clause, lambda r, a, b: f"{a}，{r.choice(['但是', '不过', '可是'])}{b}", lambda _, a, b: f"虽然{a}，但{b}",
        lambda _, a, b: f"{a}，而且{b}", OPENERS, ENDINGS,
    )
