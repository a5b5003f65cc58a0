"""Label sets shared by imports, demo data, models and the console.

Intents are free text in the database (each CRM has its own taxonomy); these are
the bank contact centre's 20 intents the original system used, with English names
for English-language data. Sentiment is stored as a code.
"""
from django.db import models
from django.utils.translation import gettext_lazy as _

INTENTS_ZH = [
    "账户查询", "余额查询", "转账汇款", "信用卡申请", "贷款咨询", "投资理财", "保险咨询", "技术支持", "投诉建议", "产品介绍",
    "费用查询", "密码重置", "开户申请", "销户申请", "优惠活动", "网点查询", "汇率查询", "还款提醒", "风险评估", "其他咨询",
]
INTENTS_EN = [
    "account_inquiry", "balance_inquiry", "transfer", "credit_card_application", "loan_inquiry", "wealth_management",
    "insurance_inquiry", "technical_support", "complaint", "product_info", "fee_inquiry", "password_reset",
    "account_opening", "account_closing", "promotions", "branch_locator", "exchange_rate", "repayment_reminder",
    "risk_assessment", "other",
]
INTENT_ZH_TO_EN = dict(zip(INTENTS_ZH, INTENTS_EN))


class Sentiment(models.TextChoices):
    NEGATIVE = "negative", _("Negative")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")


# Accept the CRM's spellings on the way in.
SENTIMENT_ALIASES = {
    "negative": "negative", "neg": "negative", "负面": "negative", "-1": "negative", "0": "negative",
    "neutral": "neutral", "neu": "neutral", "中性": "neutral",
    "positive": "positive", "pos": "positive", "正面": "positive", "1": "positive",
}


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    APP = "app", _("Mobile app")
    PHONE = "phone", _("Phone")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("E-mail")


CHANNEL_ALIASES = {
    "网页": "web", "手机app": "app", "手机APP": "app", "电话": "phone", "微信": "wechat", "邮件": "email",
    "电子邮件": "email",
}
