"""factory_boy factories for the CRM models (other apps keep theirs in tests/<app>/factories.py)."""
import datetime as dt

import factory
from django.utils import timezone

from apps.agents.models import Agent
from apps.conversations.models import Conversation, Message
from apps.customers.models import Customer


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"C{n:06d}")
    display_name = factory.Sequence(lambda n: f"客户{n}")
    age = 35
    city = "上海"


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    external_id = factory.Sequence(lambda n: f"A{n:04d}")
    name = factory.Sequence(lambda n: f"坐席{n}")
    team = "team-1"


class ConversationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Conversation

    external_id = factory.Sequence(lambda n: f"CONV{n:08d}")
    customer = factory.SubFactory(CustomerFactory)
    agent = factory.SubFactory(AgentFactory)
    channel = "app"
    language = "zh"
    started_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    resolved = True
    customer_text = "我想查询一下我的账户余额"
    n_messages = 2


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    seq = factory.Sequence(lambda n: n)
    speaker = "customer"
    text = "我想查询一下我的账户余额"
