"""Helpers for the QA tests: transcripts written with known answers to the default scorecard."""
import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from apps.conversations.models import Message
from apps.core.roles import roles_setup
from tests.factories import AgentFactory, ConversationFactory

# Follows every rule of the default scorecard.
GOOD_ZH = [
    ("agent", "您好，我是客服小李，很高兴为您服务。"),
    ("customer", "你们怎么回事，我的卡又被乱扣费了，太让人生气了！"),
    ("agent", "非常抱歉给您带来不便。为了核实您的身份，请您提供一下姓名和预留手机号。"),
    ("customer", "张三，[PHONE]"),
    ("agent", "好的，身份验证通过。请问您是想查询这笔扣费的原因吗？"),
    ("customer", "对。"),
    ("agent", "已经为您查到，这是年费，本期账单金额为 300元，您可以通过手机银行申请减免。"),
    ("agent", "请问还有什么可以帮您的吗？"),
]
# Asks for the CVV (auto-fail), discloses the balance before verifying, no greeting, no closing.
BAD_EN = [
    ("customer", "Hi, what's my balance? This is ridiculous, I've been waiting forever."),
    ("agent", "Your balance is $1,200.50."),
    ("agent", "Can you read me the CVV on the back of your card?"),
    ("customer", "Why do you need that?"),
    ("agent", "OK."),
]
# Good English conversation with a guaranteed-returns promise (auto-fail).
PROMISE_EN = [
    ("agent", "Good morning, my name is Anna from the wealth team."),
    ("customer", "I'd like to invest in your new fund."),
    ("agent", "Do you want the 12-month plan? You can buy it in the app."),
    ("agent", "It is guaranteed to return 8% a year, you can't lose."),
    ("agent", "Is there anything else I can help you with?"),
]


def make_conversation(turns, *, agent=None, language="zh", started_at=None, gap_s=10, **kw):
    started_at = started_at or timezone.now() - dt.timedelta(hours=2)
    conv = ConversationFactory(agent=agent or AgentFactory(), language=language, started_at=started_at,
                               n_messages=len(turns), **kw)
    Message.objects.bulk_create([
        Message(conversation=conv, seq=i + 1, speaker=speaker, text=text,
                sent_at=started_at + dt.timedelta(seconds=gap_s * (i + 1)))
        for i, (speaker, text) in enumerate(turns)
    ])
    return conv


@pytest.fixture
def default_version(db):
    from apps.qa.default_scorecard import seed_default_scorecard

    return seed_default_scorecard()


@pytest.fixture
def roles(db):
    roles_setup()


@pytest.fixture
def make_user(django_user_model, roles):
    def make(name, role=None, **extra):
        user = django_user_model.objects.create_user(username=name, password="pw-123456!", **extra)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make
