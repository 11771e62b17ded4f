"""The Chinese variant of the generated NER set (``data.language=zh``): news-like sentences tagged per character.

As in Chinese NER corpora (People's Daily, MSRA), every character is a word with its own tag
(``张 B-PER``, ``伟 I-PER``). Names are invented from character lists, so a model has to use
context (``表示``, ``在``, ``访问``) and name shapes (a surname first, ``市``/``省`` at the end of
places, ``公司``/``银行`` at the end of organizations): the same character can open a person's
name in one sentence and a place in another. Types: PER, ORG, LOC (those of People's Daily).
"""

from __future__ import annotations

import random

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂华文建国兰玉"
PLACE = "江河山阳安宁平东西南北湖海城州天新长云泉德兴"
LOC_SUFFIX = ["市", "省", "县", "镇", "湾", "岛", ""]
ORG_SUFFIX = ["公司", "集团", "银行", "大学", "委员会", "研究所", "医院", "协会"]
TEMPLATES = [
    "{PER}在{LOC}加入了{ORG}。",
    "{ORG}周一表示，{LOC}的利润有所增长。",
    "{PER}访问{LOC}后，{ORG}的股价下跌了。",
    "{LOC}警方说，{PER}没有受伤。",
    "{ORG}和{ORG}将合并，{PER}在{LOC}对记者说。",
    "{PER}表示，{ORG}将裁员{number}人。",
    "大雨推迟了{LOC}的比赛。",
    "{PER}和{PER}昨天抵达{LOC}。",
    "据{ORG}统计，{LOC}、{LOC}和{LOC}的降水量增加。",
    "{ORG}主任{PER}出席了会议。",
]


def _entity(rng: random.Random, entity_type: str) -> str:
    """The characters of one invented entity of ``entity_type``."""
    if entity_type == "PER":
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
    place = "".join(rng.choice(PLACE) for _ in range(rng.choice((1, 2, 2, 3))))
    if entity_type == "LOC":
        return place + rng.choice(LOC_SUFFIX) if len(place) > 1 else place + rng.choice(LOC_SUFFIX[:-1])
    if rng.random() < 0.3:
        return rng.choice(SURNAMES) + "氏" + rng.choice(ORG_SUFFIX)
    return place + rng.choice(ORG_SUFFIX)


def sentence(rng: random.Random) -> tuple[list[str], list[str]]:
    """One sentence as ``(characters, IOB2 tags)``, one tag per character."""
    chars: list[str] = []
    tags: list[str] = []
    template = rng.choice(TEMPLATES)
    while template:
        start = template.find("{")
        if start != 0:
            literal = template if start < 0 else template[:start]
            chars += list(literal)
            tags += ["O"] * len(literal)
            template = "" if start < 0 else template[start:]
            continue
        end = template.index("}")
        slot, template = template[1:end], template[end + 1 :]
        if slot == "number":
            text = str(rng.randint(2, 900) * 10)
            chars += list(text)
            tags += ["O"] * len(text)
            continue
        entity = _entity(rng, slot)
        chars += list(entity)
        tags += [f"B-{slot}"] + [f"I-{slot}"] * (len(entity) - 1)
    return chars, tags
