"""Generated customer-service conversations in English and Chinese: the offline demo of ``task=chat``.

A customer asks about a delivery, a refund or a change of address; the agent asks for what it
needs and answers with the order number, item, delivery method or address the customer gave,
then closes politely. Replies follow from the conversation, so a model can learn them (copying
slots, choosing the scenario, stopping); the most frequent reply is the baseline to beat.
"""

from __future__ import annotations

import random
from typing import Any

ITEMS = {
    "en": ["headphones", "phone case", "desk lamp", "backpack", "coffee maker", "keyboard", "water bottle", "running shoes"],
    "zh": ["耳机", "手机壳", "台灯", "背包", "咖啡机", "键盘", "水杯", "跑鞋"],
}
ADDRESSES = {
    "en": ["12 Oak Street", "5 River Road", "88 Hill Avenue", "3 Park Lane", "41 Lake Drive"],
    "zh": ["北京市朝阳区建国路8号", "上海市浦东新区世纪大道100号", "广州市天河区体育西路5号", "杭州市西湖区文三路12号", "成都市武侯区人民南路3号"],
}
METHODS = {"en": {"express": 2, "standard": 5}, "zh": {"快递": 2, "普通": 5}}

LINES = {
    "en": {
        "greet": ["Hi", "Hello", "Hi there"],
        "greet_reply": "Hello! How can I help you today?",
        "where": ["Where is my order {order}?", "My order {order} has not arrived yet.", "Can you track order {order}?"],
        "ask_method": "Let me check order {order}. Did you choose express or standard delivery?",
        "method": ["{method}.", "I picked {method}.", "{method} delivery."],
        "arrives": "With {method} delivery, order {order} arrives within {days} days.",
        "refund": ["I want to return the {item} I bought.", "The {item} is broken, I need a refund.", "Can I get my money back for the {item}?"],
        "ask_order": "Sorry the {item} did not work out. What is the order number?",
        "order": ["It is {order}.", "{order}", "The order number is {order}."],
        "refunded": "The refund for order {order} has started. The money returns to your card within 7 days.",
        "address": ["Can I change the address of order {order}?", "I moved, please update order {order}."],
        "ask_address": "Sure. What is the new address for order {order}?",
        "new_address": ["{address}", "Please send it to {address}."],
        "moved": "Done: order {order} will be delivered to {address}.",
        "thanks": ["Thanks!", "Thank you.", "Great, thanks a lot."],
        "bye": "You're welcome! Have a nice day.",
        "system": "You are the customer service agent of an online shop.",
    },
    "zh": {
        "greet": ["你好", "您好", "在吗"],
        "greet_reply": "您好！请问有什么可以帮您？",
        "where": ["我的订单{order}到哪了？", "订单{order}还没到。", "帮我查一下订单{order}。"],
        "ask_method": "我来查一下订单{order}。您选的是快递还是普通配送？",
        "method": ["{method}。", "我选的{method}。", "{method}配送。"],
        "arrives": "{method}配送的订单{order}会在{days}天内送达。",
        "refund": ["我想退掉买的{item}。", "{item}坏了，我要退款。", "{item}可以退钱吗？"],
        "ask_order": "很抱歉{item}让您不满意。请问订单号是多少？",
        "order": ["是{order}。", "{order}", "订单号是{order}。"],
        "refunded": "订单{order}的退款已经开始处理，钱会在7天内退回您的银行卡。",
        "address": ["订单{order}可以改地址吗？", "我搬家了，请修改订单{order}的地址。"],
        "ask_address": "可以。订单{order}的新地址是哪里？",
        "new_address": ["{address}", "请寄到{address}。"],
        "moved": "好的，订单{order}将送到{address}。",
        "thanks": ["谢谢！", "谢谢你。", "好的，非常感谢。"],
        "bye": "不客气！祝您生活愉快。",
        "system": "你是一家网店的客服。",
    },
}


def _conversation(rng: random.Random, language: str) -> list[dict[str, str]]:
    say = LINES[language]
    slots = {"order": str(rng.randint(1000, 9999)), "item": rng.choice(ITEMS[language]), "address": rng.choice(ADDRESSES[language])}
    method = rng.choice(sorted(METHODS[language]))
    slots.update(method=method, days=METHODS[language][method])
    turns: list[tuple[str, str]] = []
    if rng.random() < 0.4:
        turns.append((rng.choice(say["greet"]), say["greet_reply"]))
    scenario = rng.choice(["where", "refund", "address"])
    if scenario == "where":
        turns += [(rng.choice(say["where"]), say["ask_method"]), (rng.choice(say["method"]), say["arrives"])]
    elif scenario == "refund":
        turns += [(rng.choice(say["refund"]), say["ask_order"]), (rng.choice(say["order"]), say["refunded"])]
    else:
        turns += [(rng.choice(say["address"]), say["ask_address"]), (rng.choice(say["new_address"]), say["moved"])]
    if rng.random() < 0.3:
        turns.append((rng.choice(say["thanks"]), say["bye"]))
    messages = [{"role": "system", "content": say["system"]}] if rng.random() < 0.5 else []
    for user, agent in turns:
        messages += [{"role": "user", "content": user.format(**slots)}, {"role": "assistant", "content": agent.format(**slots)}]
    return messages


def generate_conversations(size: int, seed: int, languages: tuple[str, ...] = ("en", "zh")) -> list[dict[str, Any]]:
    """``size`` conversations ``{"messages": [...]}``, each in one of ``languages`` at random."""
    rng = random.Random(seed)
    return [{"messages": _conversation(rng, rng.choice(languages))} for _ in range(size)]
