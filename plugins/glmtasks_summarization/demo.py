"""Generated match reports and their one-line summaries, for the offline default run.

Our own templates and invented names, no copied text. Each report states the facts of a
football match (teams, score, a goal scorer, the day) among filler sentences (weather,
crowd, coaches, tickets), in a shuffled order, so that the first sentences are usually not
the summary (a lead baseline scores poorly). The summary must *infer* who won from the two
scores ("beat", "won away at", "drew") and copy the names and numbers from the report.
"""

from __future__ import annotations

import random

PLACES = [
    "Harbor", "Millbrook", "Eastvale", "Stonebridge", "Redcliff", "Northwood", "Ashford", "Lakeside",
    "Brightwater", "Oakridge", "Westmere", "Fairhaven", "Kingsport", "Greenfield", "Silverton", "Thornbury",
]
MASCOTS = ["Owls", "Foxes", "Rovers", "Falcons", "Bears", "Wolves", "Hornets", "Pirates", "Comets", "Badgers"]
FIRST = ["Ana", "Tomas", "Lena", "Marco", "Ines", "Piet", "Sara", "Jonas", "Mila", "Rafael", "Eva", "Nico", "Lia", "Omar", "Kira", "Ben"]
LAST = ["Silva", "Novak", "Berg", "Costa", "Lund", "Moreau", "Varga", "Holm", "Brandt", "Ortega", "Kerr", "Petit", "Dahl", "Sousa"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEATHER = ["cold", "rainy", "windy", "sunny", "foggy", "warm", "grey"]
NUMBER_WORDS = ["no", "one", "two", "three", "four", "five"]


def _team(rng: random.Random) -> str:
    return f"{rng.choice(PLACES)} {rng.choice(MASCOTS)}"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _report(rng: random.Random) -> tuple[str, str]:
    home, away = _team(rng), _team(rng)
    while away.split()[0] == home.split()[0]:
        away = _team(rng)
    home_goals, away_goals = rng.randint(0, 4), rng.randint(0, 4)
    day, minute = rng.choice(DAYS), rng.randint(3, 89)
    scorer_team = home if (home_goals and (not away_goals or rng.random() < 0.5)) else away
    scorer = _person(rng)
    facts = [
        rng.choice([f"{home} hosted {away} on {day}.", f"on {day}, {away} travelled to play {home}.", f"{home} welcomed {away} on {day}."]),
        rng.choice([f"the final score was {home_goals} to {away_goals}.", f"the match ended {home_goals} - {away_goals}.", f"the result was {home_goals} - {away_goals} after ninety minutes."]),
    ]
    if home_goals or away_goals:
        facts.append(rng.choice([f"{scorer} scored for {scorer_team} after {minute} minutes.", f"after {minute} minutes {scorer} scored for {scorer_team}."]))
    fillers = [
        f"the weather was {rng.choice(WEATHER)} and {rng.randint(2, 40) * 500} fans watched.",
        f"coach {_person(rng)} praised the {rng.choice(['defence', 'midfield', 'young players', 'goalkeeper', 'fans'])}.",
        rng.choice(["tickets sold out a week before the game.", "the pitch was in poor condition.", "a new stand opened this season."]),
        f"the referee showed {rng.choice(NUMBER_WORDS)} yellow cards.",
        rng.choice(["both teams played in their usual colours.", "the second half was quieter than the first.", "many fans arrived late because of traffic."]),
    ]
    sentences = facts + rng.sample(fillers, rng.randint(1, 3))
    rng.shuffle(sentences)
    sentences = [s[0].upper() + s[1:] for s in sentences]
    if home_goals > away_goals:
        summary = f"{home} beat {away} {home_goals}-{away_goals} on {day}."
    elif away_goals > home_goals:
        summary = f"{away} won {away_goals}-{home_goals} at {home} on {day}."
    else:
        summary = f"{home} and {away} drew {home_goals}-{away_goals} on {day}."
    if home_goals or away_goals:
        summary += f" {scorer} scored for {scorer_team}."
    return " ".join(sentences), summary


def generate_reports(size: int, seed: int) -> dict[str, list[str]]:
    """``size`` generated match reports as columns ``document`` and ``summary``."""
    rng = random.Random(seed)
    documents, summaries = [], []
    for _ in range(size):
        document, summary = _report(rng)
        documents.append(document)
        summaries.append(summary)
    return {"document": documents, "summary": summaries}
