"""Generated SQuAD-format QA data for the offline default run (our own templates, no copied text).

Each article has one or two paragraphs of invented biographies; each paragraph describes
several people with the same kinds of facts (birthplace, birth year, field of study,
school, a later move, a job), so a question can only be answered by finding the person it
names: the other people's facts are distractors of the right type. Paragraphs are long
enough to be cut into several windows at the demo's ``max_length``, so some answers lie
outside some windows. English (``language=en``) and Chinese (``language=zh``) are
generated from separate templates; names, places and schools are invented from syllables.
"""

from __future__ import annotations

import random
import re
from typing import Any

EN_FIRST = ["ma", "ri", "ko", "len", "ta", "vi", "so", "dor", "el", "an", "bre", "ni", "ca", "lo", "mi", "ra", "jo", "fe", "sa", "lu"]
EN_LAST = ["quen", "by", "hal", "ster", "mor", "wick", "tan", "ner", "gal", "lo", "way", "ford", "brin", "del", "o", "ver", "ash", "ton"]
EN_PLACE = ["tor", "vel", "mar", "stra", "ond", "kel", "bar", "lin", "ros", "fen", "dal", "cor", "ast", "mir", "wen", "hol"]
EN_PLACE_END = ["vik", "ford", "burg", "ton", "holm", "stad", "mere", "haven", "port", "field"]
EN_FIELDS = [
    "marine biology", "economics", "medieval history", "astronomy", "chemistry", "architecture", "music theory",
    "geology", "mathematics", "linguistics", "medicine", "philosophy", "botany", "civil engineering", "law", "painting",
]
EN_JOBS = [
    "glassblower", "cartographer", "bridge engineer", "school teacher", "baker", "ship captain", "librarian",
    "journalist", "watchmaker", "surgeon", "translator", "park ranger", "violin maker", "bookbinder", "pilot",
]
EN_SCHOOL = ["University of {p}", "{p} Institute of Technology", "Royal Academy of {p}", "{p} College", "{p} Conservatory"]
EN_FACTS = [
    ("{name} was born in {city} in {year}.", "Born in {city} in {year}, {name} grew up near the river."),
    ("{Pro} studied {field} at the {school}.", "At the {school}, {pro} studied {field}."),
    ("In {moved}, {pro} moved to {city2}, where {pro} worked as a {job}.", "{Pro} moved to {city2} in {moved} and worked there as a {job}."),
]
EN_QUESTIONS = {
    "city": ["Where was {name} born?", "In which town was {name} born?"],
    "year": ["When was {name} born?", "In which year was {name} born?"],
    "field": ["What did {name} study?", "Which subject did {name} study?"],
    "school": ["Where did {name} study {field}?"],
    "city2": ["Where did {name} move in {moved}?", "To which town did {name} move?"],
    "job": ["What did {name} work as in {city2}?", "What was the job of {name}?"],
}

ZH_SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗")
ZH_GIVEN = list("明华伟芳静丽强磊军洋勇艳杰娟涛超秀霞平刚桂英")
ZH_PLACE = list("青川临安江宁云山东西南北海泉松桥河阳")
ZH_PLACE_END = ["城", "镇", "州", "港", "县"]
ZH_FIELDS = ["物理学", "化学", "历史学", "数学", "建筑学", "医学", "音乐", "天文学", "地质学", "哲学", "植物学", "法律"]
ZH_JOBS = ["工程师", "教师", "医生", "记者", "律师", "画家", "厨师", "船长", "翻译", "图书管理员", "飞行员", "钟表匠"]
ZH_SCHOOL = ["{p}大学", "{p}理工学院", "{p}师范学院", "{p}音乐学院"]
ZH_FACTS = [
    ("{name}于{year}年出生在{city}。", "{name}出生在{city}，那一年是{year}年。"),
    ("{pro}曾在{school}学习{field}。", "{pro}在{school}读书，学的是{field}。"),
    ("{moved}年，{pro}搬到了{city2}，在那里做{job}。", "{pro}在{moved}年迁居{city2}，成为一名{job}。"),
]
ZH_QUESTIONS = {
    "city": ["{name}出生在哪里？", "{name}的出生地是哪里？"],
    "year": ["{name}是哪一年出生的？", "{name}出生于哪一年？"],
    "field": ["{name}学习什么？", "{name}学的是什么专业？"],
    "school": ["{name}在哪里学习{field}？"],
    "city2": ["{name}在{moved}年搬到了哪里？", "{name}后来迁居到哪里？"],
    "job": ["{name}在{city2}做什么工作？", "{name}的职业是什么？"],
}


def _en_word(rng: random.Random, parts: list[str], n: int) -> str:
    return "".join(rng.choice(parts) for _ in range(n)).capitalize()


def _person(rng: random.Random, language: str, used: set[str]) -> dict[str, str]:
    """Invented facts about one person (a name not in ``used``)."""
    while True:
        if language == "zh":
            name = rng.choice(ZH_SURNAMES) + "".join(rng.choice(ZH_GIVEN) for _ in range(rng.randint(1, 2)))
        else:
            name = f"{_en_word(rng, EN_FIRST, rng.randint(2, 3))} {_en_word(rng, EN_LAST, 2)}"
        if name not in used:
            used.add(name)
            break
    if language == "zh":
        place = lambda: rng.choice(ZH_PLACE) + rng.choice(ZH_PLACE) + rng.choice(ZH_PLACE_END)  # noqa: E731
        facts = {"field": rng.choice(ZH_FIELDS), "job": rng.choice(ZH_JOBS), "school": rng.choice(ZH_SCHOOL)}
        pronoun = rng.choice(["他", "她"])
        facts["pro"] = facts["Pro"] = pronoun
    else:
        place = lambda: _en_word(rng, EN_PLACE, 1) + rng.choice(EN_PLACE_END)  # noqa: E731
        facts = {"field": rng.choice(EN_FIELDS), "job": rng.choice(EN_JOBS), "school": rng.choice(EN_SCHOOL)}
        pronoun = rng.choice(["he", "she"])
        facts["pro"], facts["Pro"] = pronoun, pronoun.capitalize()
    city = place()
    city2 = place()
    while city2 == city:
        city2 = place()
    year = rng.randint(1820, 1990)
    facts.update(name=name, city=city, city2=city2, year=str(year), moved=str(year + rng.randint(18, 40)))
    facts["school"] = facts["school"].format(p=place())
    return facts


def _render(template: str, values: dict[str, str], offset: int) -> tuple[str, dict[str, int]]:
    """Fill ``{slot}``s; return the text and the character start (plus ``offset``) of each slot."""
    out, starts, position = [], {}, offset
    for piece in re.split(r"(\{\w+\})", template):
        if piece.startswith("{") and piece.endswith("}"):
            slot = piece[1:-1]
            starts.setdefault(slot, position)
            piece = values[slot]
        out.append(piece)
        position += len(piece)
    return "".join(out), starts


def _paragraph(rng: random.Random, language: str, people: int, questions_per_person: int, prefix: str) -> dict[str, Any]:
    facts_t, questions_t = (ZH_FACTS, ZH_QUESTIONS) if language == "zh" else (EN_FACTS, EN_QUESTIONS)
    joiner = "" if language == "zh" else " "
    used: set[str] = set()
    context, qas = "", []
    for person_number in range(people):
        person = _person(rng, language, used)
        answer_starts: dict[str, int] = {}
        for variants in facts_t:
            if context:
                context += joiner
            sentence, starts = _render(rng.choice(variants), person, len(context))
            context += sentence
            answer_starts.update({k: v for k, v in starts.items() if k not in answer_starts})
        for slot in rng.sample(sorted(questions_t), questions_per_person):
            question = rng.choice(questions_t[slot]).format(**person)
            qas.append(
                {
                    "id": f"{prefix}-{person_number}-{slot}",
                    "question": question,
                    "answers": [{"text": person[slot], "answer_start": answer_starts[slot]}],
                }
            )
    return {"context": context, "qas": qas}


def generate_squad(num_articles: int, seed: int, language: str = "en") -> dict[str, Any]:
    """A SQuAD-format payload (``{"version", "data": [articles]}``) of ``num_articles`` articles.

    Each article has one or two paragraphs of three to five people, and three questions
    per person (about 20 questions per article).
    """
    rng = random.Random(seed)
    articles = []
    for a in range(num_articles):
        paragraphs = [
            _paragraph(rng, language, people=rng.randint(3, 5), questions_per_person=3, prefix=f"demo{seed}-{a}-{p}")
            for p in range(rng.randint(1, 2))
        ]
        articles.append({"title": f"demo article {a}", "paragraphs": paragraphs})
    return {"version": "glmtasks-demo", "data": articles}
