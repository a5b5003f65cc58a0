"""Synthetic bank contact-centre data for demos, model training and the console.

A pure generator: ``generate_demo()`` returns plain dicts shaped like the items of
``customers_upsert``, ``agents_upsert`` and ``conversations_upsert``; it never touches
the database. The ``seed_demo`` command feeds them through the ingest services.

Everything is drawn from one ``random.Random(seed)`` in a fixed order, and every
timestamp is an offset from ``anchor`` (midnight of the anchor date), so one seed and
one anchor always give identical data (the ids, the texts and the times).

What the data is meant to show (the original system's facts, made richer):

* 20 intents with intent-specific wording: opening templates x slots (cards, amounts,
  dates, products, branches, apps ...) x greetings / politeness / filler, follow-up
  turns, and agent replies specific to the intent (good ones for high quality, curt
  ones for low quality), so reply suggestions retrieved by customer text make sense;
* a little ambiguity: a share of the conversations of related intents (余额查询 /
  账户查询, 信用卡申请 / 开户申请, ...) open with a phrasing both share, and a few CRM
  labels are wrong, so intent accuracy is high but not 100%;
* sentiment drawn per intent (complaints mostly negative, promotions / wealth more
  positive), quality drawn by sentiment (positive 4-5, neutral 3-4.5, negative 1-3.5)
  and shifted by the agent's hidden skill and by resolution; CSAT for ~60%;
* business-hours-weighted start times, agent first response 5-120 s, resolution time
  30-1800 s;
* occasional PII (mobile numbers, e-mails at example domains, Luhn-valid card numbers)
  in customer turns, so masking on ingest has something to mask. All names and numbers
  are random combinations, never real people's data.
"""
from __future__ import annotations

import datetime as dt
import math
import random
import re
from dataclasses import dataclass, field

from apps.core.labels import INTENTS_EN, INTENTS_ZH

LANGUAGES = ("zh", "en")
SENTIMENTS = ("negative", "neutral", "positive")
VIP_LEVELS = ("normal", "silver", "gold", "diamond")
VIP_WEIGHTS = (0.60, 0.25, 0.12, 0.03)
BUSINESS_SHARE = 0.20
CSAT_SHARE = 0.60
PII_SHARE = 0.12
AMBIGUOUS_SHARE = 0.10
LABEL_NOISE_SHARE = 0.015
MIN_RESOLUTION_S = 30
MAX_RESOLUTION_S = 1800

# Relative contact volume per intent (English code); normalised when drawn.
INTENT_WEIGHTS = {
    "account_inquiry": 6, "balance_inquiry": 8, "transfer": 8, "credit_card_application": 6, "loan_inquiry": 5,
    "wealth_management": 5, "insurance_inquiry": 3, "technical_support": 8, "complaint": 5, "product_info": 4,
    "fee_inquiry": 5, "password_reset": 6, "account_opening": 4, "account_closing": 3, "promotions": 4,
    "branch_locator": 4, "exchange_rate": 3, "repayment_reminder": 5, "risk_assessment": 3, "other": 5,
}
# Business customers move money and borrow more; VIPs invest more.
BUSINESS_BOOST = {"transfer": 2.0, "exchange_rate": 2.5, "loan_inquiry": 1.8, "account_opening": 1.5}
VIP_BOOST = {"wealth_management": 2.0, "risk_assessment": 1.6, "insurance_inquiry": 1.5, "product_info": 1.3}

# P(negative, neutral, positive) per intent.
SENTIMENT_BY_INTENT = {
    "complaint": (0.75, 0.20, 0.05),
    "technical_support": (0.40, 0.45, 0.15),
    "account_closing": (0.35, 0.50, 0.15),
    "password_reset": (0.30, 0.55, 0.15),
    "fee_inquiry": (0.30, 0.55, 0.15),
    "repayment_reminder": (0.25, 0.55, 0.20),
    "transfer": (0.20, 0.55, 0.25),
    "account_inquiry": (0.15, 0.60, 0.25),
    "other": (0.12, 0.63, 0.25),
    "balance_inquiry": (0.10, 0.60, 0.30),
    "loan_inquiry": (0.12, 0.50, 0.38),
    "insurance_inquiry": (0.10, 0.55, 0.35),
    "risk_assessment": (0.10, 0.60, 0.30),
    "credit_card_application": (0.10, 0.50, 0.40),
    "account_opening": (0.08, 0.52, 0.40),
    "branch_locator": (0.08, 0.62, 0.30),
    "exchange_rate": (0.08, 0.67, 0.25),
    "product_info": (0.07, 0.50, 0.43),
    "wealth_management": (0.06, 0.42, 0.52),
    "promotions": (0.05, 0.35, 0.60),
}
# Quality range by sentiment (the original system's rule), before skill and resolution shifts.
QUALITY_RANGE = {"positive": (4.0, 5.0), "neutral": (3.0, 4.5), "negative": (1.0, 3.5)}
RESOLVED_P = {"positive": 0.95, "neutral": 0.85, "negative": 0.55}

# Related intents whose customers sometimes word their question the same way.
AMBIGUOUS_GROUPS = (
    ("account_inquiry", "balance_inquiry"),
    ("credit_card_application", "account_opening"),
    ("loan_inquiry", "repayment_reminder"),
    ("technical_support", "password_reset"),
    ("wealth_management", "risk_assessment"),
    ("product_info", "insurance_inquiry"),
    ("exchange_rate", "transfer"),
    ("fee_inquiry", "account_closing"),
    ("promotions", "credit_card_application"),
    ("complaint", "other"),
)
RELATED = {}
for _i, _group in enumerate(AMBIGUOUS_GROUPS):
    for _intent in _group:
        RELATED.setdefault(_intent, []).append(_i)

# Teams and the intents routed to them (the rest go to the first team).
TEAM_INTENTS = (
    (),  # general service
    ("credit_card_application", "repayment_reminder", "promotions", "fee_inquiry"),
    ("wealth_management", "insurance_inquiry", "risk_assessment", "product_info", "exchange_rate", "loan_inquiry"),
    ("technical_support", "password_reset"),
    ("complaint",),
)
TEAM_SHARE = (0.30, 0.20, 0.20, 0.15, 0.15)
TEAM_ROUTING_P = 0.75

CHANNEL_WEIGHTS = {
    "zh": {"web": 0.25, "app": 0.35, "phone": 0.20, "wechat": 0.17, "email": 0.03},
    "en": {"web": 0.36, "app": 0.35, "phone": 0.22, "wechat": 0.02, "email": 0.05},
}
# Local hour-of-day and weekday (Monday first) weights: a bank contact centre's day.
HOUR_WEIGHTS = (
    0.2, 0.1, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 2.0, 4.0, 5.0, 4.8,
    3.0, 3.5, 4.5, 4.6, 4.2, 3.2, 2.2, 2.0, 2.2, 1.8, 1.0, 0.5,
)
WEEKDAY_WEIGHTS = (1.10, 1.00, 1.00, 1.00, 1.05, 0.60, 0.50)
# Number of messages (customer first, then alternating).
N_MESSAGES_WEIGHTS = {2: 0.12, 3: 0.06, 4: 0.25, 5: 0.08, 6: 0.24, 7: 0.07, 8: 0.18}


# --------------------------------------------------------------------------------------
# Texts. Per language: slot values, per-intent templates and generic pieces. Templates
# use ``{slot}`` placeholders, filled once per conversation so turns stay consistent.
# --------------------------------------------------------------------------------------

ZH_SLOTS = {
    "card": ["储蓄卡", "借记卡", "工资卡", "一类卡", "白金卡", "金卡", "银行卡", "社保卡"],
    "app": ["手机银行", "手机银行APP", "网银", "微信银行", "APP", "网上银行"],
    "date": ["昨天", "前天", "上周五", "上周", "这个月初", "今天上午", "上个月底", "3号", "15号", "周一"],
    "date_future": ["明天", "后天", "本周五", "下周一", "3个工作日内", "月底前"],
    "duration": ["半个小时", "两天", "一个多星期", "三天", "四十分钟", "一整天", "快一个月", "两个小时"],
    "product": ["稳利90天理财", "季季盈", "天天宝货币基金", "三年期大额存单", "安享养老理财", "纯债基金", "周周利",
                "月月鑫"],
    "product_type": ["存款产品", "卡类产品", "养老产品", "儿童产品", "外币产品", "稳健型产品"],
    "loan": ["房贷", "车贷", "消费贷", "经营贷", "装修贷", "公积金贷款", "信用贷"],
    "insurance": ["重疾险", "意外险", "医疗险", "年金险", "终身寿险", "旅行险", "少儿险"],
    "currency": ["美元", "欧元", "日元", "港币", "英镑", "澳元", "新加坡元"],
    "amount_fx": ["1000", "2000", "5000", "1万", "3万", "8000"],
    "term": ["一年", "三年", "五年", "12期", "24期", "36期", "十年", "二十年"],
    "fee_type": ["年费", "短信通知费", "跨行转账手续费", "小额账户管理费", "取现手续费", "挂失补卡费", "工本费"],
    "promo": ["满减活动", "新户礼", "积分兑换", "刷卡返现", "周三五折", "开卡礼", "618消费券", "春节红包"],
    "error": ["闪退", "一直转圈", "提示系统繁忙", "收不到验证码", "白屏", "提示网络异常", "人脸识别失败", "卡死"],
    "payee": ["我妈", "房东", "供应商", "朋友", "公司账户", "装修公司", "孩子学校", "我自己另一张卡"],
    "cc": ["白金信用卡", "联名信用卡", "车主卡", "留学生信用卡", "标准信用卡", "航空里程卡", "女性主题卡"],
    "account_type": ["储蓄账户", "一类户", "二类电子账户", "对公账户", "外币账户", "养老金账户"],
    "identity": ["外地户口", "外籍人士", "港澳居民", "学生", "个体户", "退休人员"],
    "risk_level": ["保守型", "稳健型", "平衡型", "成长型"],
    "other_service": ["存款证明", "资信证明", "代发工资", "社保卡激活", "保管箱", "流水打印"],
    "branch": ["浦东支行", "中关村支行", "天河支行", "科技园支行", "西湖支行", "春熙路支行", "江汉路支行",
               "新街口支行", "小寨支行", "解放碑支行", "营业部"],
}
# Districts that belong to the customer's city (others get generic ones).
ZH_DISTRICTS = {
    "北京": ["朝阳区", "海淀区", "西城区", "丰台区"], "上海": ["浦东新区", "徐汇区", "静安区", "闵行区"],
    "广州": ["天河区", "越秀区", "海珠区", "番禺区"], "深圳": ["南山区", "福田区", "罗湖区", "宝安区"],
    "杭州": ["西湖区", "滨江区", "拱墅区", "余杭区"], "成都": ["武侯区", "锦江区", "高新区", "青羊区"],
    "武汉": ["江汉区", "洪山区", "武昌区", "江岸区"], "南京": ["鼓楼区", "玄武区", "建邺区", "江宁区"],
    "西安": ["雁塔区", "碑林区", "未央区", "高新区"], "重庆": ["渝中区", "江北区", "渝北区", "南岸区"],
}
_ZH_GENERIC_DISTRICTS = ["高新区", "开发区", "老城区", "新区", "市中心"]

EN_SLOTS = {
    "card": ["debit card", "savings card", "current account card", "platinum card", "gold card", "bank card",
             "payroll card"],
    "app": ["mobile app", "banking app", "online banking", "the app", "internet banking", "mobile banking"],
    "date": ["yesterday", "the day before yesterday", "last Friday", "last week", "earlier this month",
             "this morning", "at the end of last month", "on the 3rd", "on the 15th", "on Monday"],
    "date_future": ["tomorrow", "the day after tomorrow", "this Friday", "next Monday", "within 3 business days",
                    "before the end of the month"],
    "duration": ["half an hour", "two days", "over a week", "three days", "forty minutes", "a whole day",
                 "almost a month", "two hours"],
    "product": ["90-Day Steady Income fund", "Quarterly Saver", "Daily Money Market fund", "3-year term deposit",
                "Retirement Income plan", "Bond Fund", "Weekly Saver", "Monthly Income account"],
    "product_type": ["savings products", "card products", "retirement products", "children's accounts",
                     "foreign-currency products", "low-risk products"],
    "loan": ["mortgage", "car loan", "personal loan", "business loan", "home improvement loan", "student loan",
             "credit line"],
    "insurance": ["critical illness cover", "accident insurance", "health insurance", "annuity", "life insurance",
                  "travel insurance", "child cover"],
    "currency": ["US dollars", "euros", "yen", "pounds", "Australian dollars", "Canadian dollars",
                 "Singapore dollars"],
    "amount_fx": ["1,000", "2,000", "5,000", "10,000", "30,000", "800"],
    "term": ["one year", "three years", "five years", "12 months", "24 months", "36 months", "ten years",
             "twenty years"],
    "fee_type": ["annual fee", "SMS alert fee", "wire transfer fee", "low-balance fee", "ATM withdrawal fee",
                 "card replacement fee", "monthly maintenance fee"],
    "promo": ["cashback offer", "welcome bonus", "points redemption", "dining discount", "double points week",
              "new card gift", "holiday voucher", "refer-a-friend bonus"],
    "error": ["crashes", "keeps loading", "says system busy", "doesn't send the verification code",
              "shows a blank screen", "says network error", "fails the face check", "freezes"],
    "payee": ["my mum", "my landlord", "a supplier", "a friend", "my company account", "the builders",
              "my kid's school", "my other account"],
    "cc": ["platinum credit card", "co-branded card", "cashback card", "student credit card", "standard credit card",
           "travel rewards card", "low-rate card"],
    "account_type": ["savings account", "current account", "online-only account", "business account",
                     "foreign-currency account", "joint account"],
    "identity": ["a non-resident", "a foreign national", "an international student", "a student",
                 "self-employed", "retired"],
    "risk_level": ["conservative", "cautious", "balanced", "growth"],
    "other_service": ["proof of funds letter", "bank reference letter", "payroll service", "safe deposit box",
                      "statement printout", "notarised statement"],
    "district": ["Downtown", "Westside", "Riverside", "Old Town", "Northgate", "Harbour", "Midtown", "Eastfield",
                 "Southbank", "the city centre"],
    "branch": ["High Street branch", "Riverside branch", "Market Square branch", "Station Road branch",
               "Harbour branch", "Northgate branch", "Main branch", "Kings Road branch", "Park Lane branch"],
}

# Per intent: customer openings, customer follow-ups, good agent replies, curt agent replies.
ZH_INTENTS = {
    "account_inquiry": {
        "open": [
            "我想查一下我{card}的账户状态", "我的账户是不是被冻结了？{app}上显示账户异常", "帮我看下尾号{last4}的账户是正常状态吗",
            "我的卡为什么突然用不了了，是账户出问题了吗", "想确认一下我名下有几个账户", "{app}里看不到我的{card}账户信息，怎么回事",
            "我这个账户是几类户？转账限额是多少", "账户被限制交易了，提示只收不付", "账户的开户行是哪个？我要填工资卡信息",
        ],
        "follow": ["那怎么解除限制呢？", "需要我本人去网点吗？", "我名下其他账户也受影响吗？", "账户状态多久能恢复正常？",
                   "为什么会被限制？我没做什么啊", "能升级成一类户吗？"],
        "good": [
            "为了保护您的账户安全，我先核实一下身份：请提供身份证后四位和预留手机号，核实后帮您查看账户状态。",
            "已为您查询，尾号{last4}的账户目前状态正常，{app}中“我的账户”可查看账户类型和限额。",
            "您的账户因长期未使用被设置为只收不付，携带身份证到任意网点即可解除，也可以在{app}上人脸识别后恢复。",
            "您名下共有{n_accounts}个账户，其中一个是二类户，单日转账限额1万元，如需提高可升级为一类户。",
            "账户异常是因为身份证有效期已过，您在{app}上更新证件信息后，1个工作日内恢复正常，其他账户不受影响。",
            "尾号{last4}账户的开户行是{branch}，完整的开户行信息可以在{app}“账户详情”中复制。",
        ],
        "curt": ["账户状态你自己在{app}里看。", "这个查不了，去网点吧。", "系统显示就是这样，我也没办法。", "限制了就是有原因的。"],
    },
    "balance_inquiry": {
        "open": [
            "我想查一下{card}的余额", "帮我查查尾号{last4}的卡里还剩多少钱", "{app}上显示的余额好像不对，{date}明明转进来{amount}",
            "我卡里的钱怎么少了{amount}？帮我看看余额", "余额怎么查？我在{app}上找不到", "工资{date}到账了吗？想看下现在余额多少",
            "为什么可用余额和账户余额不一样？", "查一下余额和最近的交易明细", "我的余额怎么变成负数了",
        ],
        "follow": ["能把最近一个月的交易明细发给我吗？", "那笔{amount}是什么扣款？", "可用余额什么时候能恢复？",
                   "余额变动能开短信提醒吗？", "那我现在能用的钱是多少？", "冻结的那部分是什么？"],
        "good": [
            "已为您查询，尾号{last4}的卡当前可用余额为{balance}元，其中有一笔{amount}的冻结金额，预计{date_future}解冻。",
            "您可以在{app}首页点击“账户总览”查看实时余额，“交易明细”可按日期筛选，我也可以把近30天明细发到您的预留邮箱。",
            "可用余额少于账户余额是因为有一笔预授权占用，商户确认后会自动释放，一般不超过7个工作日。",
            "您{date}的工资已于当天入账，当前余额已包含这笔款项，建议开通余额变动短信提醒，实时掌握资金变化。",
            "那笔{amount}是{fee_type}的扣款，我已把交易明细为您调出，如有疑问可以帮您提交核查。",
            "您的余额短期内不用的话，可以考虑活期理财{product}，随存随取，收益高于活期存款。",
        ],
        "curt": ["余额自己在{app}上查。", "明细你自己导出来看吧。", "扣款就是扣款，系统不会错的。", "查不到就是没到账。"],
    },
    "transfer": {
        "open": [
            "我要给{payee}转{amount}，怎么操作？", "{date}转出去的{amount}对方说还没收到", "跨行转账多久能到账？",
            "转账提示超过限额，我想转{amount}", "我转错账了，{amount}转给了一个陌生人，能撤回吗？",
            "{app}转账一直提示失败，卡号我核对过了", "大额转账需要去柜台吗？要转{amount}给{payee}", "转账能预约明天到账吗？",
            "给{payee}汇款，收款人姓名写错了怎么办",
        ],
        "follow": ["转账手续费怎么收？", "限额能临时调高吗？", "如果对方不退钱怎么办？", "能查到对方有没有收到吗？",
                   "那钱现在在哪里？", "转账凭证在哪里下载？"],
        "good": [
            "请先核对收款人姓名、账号和开户行，确认无误后在{app}“转账汇款”中输入金额{amount}，通过短信验证即可完成。",
            "我查到您{date}的转账状态为“处理中”，跨行转账一般2小时内到账，最晚不超过下一个工作日，我会帮您跟踪。",
            "您当前{app}单笔转账限额为5万元，可以在“安全中心—限额管理”中通过人脸识别临时调高限额。",
            "转错账的情况我们会联系收款行协助沟通退回，需要您提供转账凭证，我现在帮您登记，进度会短信通知您。",
            "同行转账免费，跨行转账通过{app}也免手续费，柜台办理按金额收取，转账凭证可在交易明细中下载。",
            "转账失败一般是收款账户信息不符，请确认户名与账号一致后重新提交，资金已原路退回您的账户。",
        ],
        "curt": ["转错了我们也没办法，你自己找对方。", "限额就是这样，改不了。", "等着吧，到了就到了。", "你自己再试试。"],
    },
    "credit_card_application": {
        "open": [
            "我想申请一张{cc}", "申请信用卡需要什么条件？", "我{date}申请的信用卡审批到哪一步了？", "信用卡申请被拒了，为什么？",
            "{cc}的额度一般能批多少？", "学生能办信用卡吗？", "想给家人办一张信用卡附属卡", "信用卡申请要提供收入证明吗？",
            "网上申请的{cc}什么时候寄到？",
        ],
        "follow": ["年费怎么收？能免吗？", "审批大概要几天？", "批下来以后可以提额吗？", "需要提供收入证明吗？",
                   "卡寄到哪里？能改地址吗？", "被拒了多久能再申请？"],
        "good": [
            "申请{cc}需年满18周岁、有稳定收入，可以在{app}“信用卡”频道在线申请，上传身份证即可，审批一般3到5个工作日。",
            "已查到您的申请进度：目前处于“征信审核”环节，预计{date_future}前出结果，通过后卡片会邮寄到您的账单地址。",
            "这次申请未通过主要和近期征信查询次数较多有关，建议3个月后再申请，期间保持良好的还款记录。",
            "{cc}首年免年费，刷卡满6次免次年年费，初始额度根据您的资信情况综合评定，用卡半年后可申请提额。",
            "附属卡可以为年满16周岁的家人办理，共享主卡额度，您还可以为附属卡单独设置消费限额。",
            "收入证明不是必须的，提供公积金或工资流水可以帮助获得更高额度，卡片寄出后会短信告知快递单号。",
        ],
        "curt": ["审批结果以短信为准，我这看不到。", "被拒就是资质不够。", "自己上网申请吧。", "额度系统定的。"],
    },
    "loan_inquiry": {
        "open": [
            "我想了解一下{loan}，利率是多少？", "{loan}最多能贷多少？我想贷{amount}", "申请{loan}需要哪些材料？",
            "我的{loan}审批怎么这么慢，已经{duration}了", "提前还{loan}有违约金吗？", "{loan}可以分{term}还吗？",
            "征信有一次逾期还能申请{loan}吗", "{loan}能线上申请吗？不想跑网点", "想贷款{amount}做生意，有什么产品？",
        ],
        "follow": ["月供大概多少？", "放款要多久？", "征信有逾期能贷吗？", "可以线上申请吗？", "利率是固定的还是浮动的？",
                   "需要抵押吗？"],
        "good": [
            "{loan}目前年化利率{rate}%起，具体以审批结果为准，期限可选{term}，我可以帮您测算月供。",
            "申请{loan}需要身份证、收入证明、近6个月银行流水，经营贷还需营业执照，您可以先在{app}上做预审批。",
            "按{amount}、期限{term}、等额本息计算，月供约{monthly}元，提前还款满一年后免违约金。",
            "您的申请目前在风控复核环节，我已为您加急，客户经理会在1个工作日内联系您，审批通过后1到3天放款。",
            "近两年内没有连续逾期记录的话可以申请，具体额度会结合您的征信和收入评估，信用贷无需抵押。",
        ],
        "curt": ["利率看官网。", "审批慢我们也催不了。", "材料不全就批不了。", "征信不好就别申请了。"],
    },
    "wealth_management": {
        "open": [
            "现在有什么收益高一点的理财产品？", "{product}现在还能买吗？收益率多少？", "我有{amount}闲钱，想做点稳健的理财",
            "我买的{product}到期了，钱什么时候回到卡上？", "理财产品会亏本吗？", "想定投基金，每月{amount_small}，有推荐吗？",
            "{product}和定期存款哪个收益高", "理财收益怎么比上个月少了", "有没有保本的理财？",
        ],
        "follow": ["起购金额是多少？", "可以随时赎回吗？", "和定期存款比哪个好？", "收益是怎么计算的？", "手续费高吗？",
                   "什么时候开始计息？"],
        "good": [
            "根据您的风险等级，推荐{product}，业绩比较基准年化{rate}%，起购1万元，可在{app}“理财”频道购买。",
            "您持有的{product}已于{date}到期，本金和收益会在到期后1到2个工作日内回到您的{card}。",
            "理财产品不保本，历史业绩不代表未来表现，如果您更看重本金安全，可以考虑大额存单或国债。",
            "基金定投可以分散买入时点，建议选择宽基指数基金，每月{amount_small}起投，可随时暂停，申购费打一折。",
            "您可以预约我们的理财经理做一次资产配置，我帮您登记，会在24小时内联系您。",
            "{product}T+1日起计息，赎回资金一般T+1日到账，收益按持有天数计算，可在{app}查看每日收益。",
        ],
        "curt": ["产品都在{app}上，自己挑。", "亏不亏我说不准。", "收益看说明书。", "没有保本的。"],
    },
    "insurance_inquiry": {
        "open": [
            "你们代销的{insurance}怎么买？", "我想了解一下{insurance}，保额多少？", "{date}买的{insurance}能退保吗？",
            "{insurance}理赔要准备什么材料？", "{insurance}保费每年多少钱？", "之前在你们这买的{insurance}，保单在哪里查？",
            "给父母买{insurance}有年龄限制吗？", "{insurance}能在{app}上直接买吗",
        ],
        "follow": ["犹豫期是多久？", "理赔一般多久到账？", "有没有等待期？", "我父母年纪大了还能买吗？", "保费可以按月交吗？",
                   "退保会有损失吗？"],
        "good": [
            "{insurance}由合作保险公司承保、我行代销，保额可选10万到50万，您可以在{app}“保险”频道查看条款并投保。",
            "您的保单仍在15天犹豫期内，可以全额退保，我把退保申请链接发送给您，犹豫期后退保只退现金价值。",
            "理赔需提供保单号、身份证、病历和发票，提交后保险公司一般10个工作日内审核，审核通过3天内赔款到账。",
            "{insurance}有90天等待期，等待期后出险可以正常理赔，保单详情可以在{app}“我的保单”中查看。",
            "60岁以上可以投保部分意外险和医疗险，需如实健康告知，我把适合的产品清单发给您，保费支持按月缴。",
        ],
        "curt": ["保险的事问保险公司。", "条款自己看。", "退保有损失，自己考虑。", "年龄大了买不了。"],
    },
    "technical_support": {
        "open": [
            "{app}一打开就{error}", "{app}登录时{error}，试了好几次了", "转账的时候页面{error}，钱扣了没？",
            "换了新手机，{app}怎么绑定？", "U盾插上电脑没反应", "{app}更新之后{error}", "指纹登录用不了了",
            "扫码支付一直{error}", "网银控件装不上，浏览器提示不安全",
        ],
        "follow": ["清了缓存还是不行", "我用的是安卓手机，系统是最新的", "重装以后数据会丢吗？", "有没有电脑版可以用？",
                   "苹果手机也这样吗？", "那我的钱扣了没有？"],
        "good": [
            "请先把{app}更新到最新版本，清除缓存后重新登录；如果仍然{error}，请卸载重装，账户数据不会丢失。",
            "收不到验证码可能是短信被拦截，请检查手机安全软件的拦截记录，或者在页面上改用语音验证码。",
            "新手机绑定需在{app}登录页选择“设备更换”，通过身份证和人脸识别验证后即可使用，旧设备会自动解绑。",
            "我已为您提交技术工单，编号{ticket}，技术专员会在2小时内联系您，请保持电话畅通。",
            "这是已知问题，今晚的版本更新会修复，您可以先用网页版网银完成操作，给您带来不便非常抱歉。",
            "页面异常时交易未提交成功，资金不会扣除，可在“交易记录”里确认，如有扣款24小时内自动退回。",
        ],
        "curt": ["重装一下就行。", "你手机的问题吧。", "系统正常的，我这边没问题。", "换个网络试试。"],
    },
    "complaint": {
        "open": [
            "我要投诉你们{branch}的柜员，态度太差了", "排队等了{duration}，窗口只开了一个", "你们乱扣我{amount}的{fee_type}，我要投诉",
            "客服电话打了{duration}都打不进来", "上次投诉到现在{duration}了还没人回复", "我建议你们{app}把转账流程简化一下",
            "理财经理销售时根本没说会亏本，我要投诉", "你们天天打电话推销，能不能别打了", "ATM吞卡了，网点还让我等三天",
        ],
        "follow": ["我要求退还费用并且道歉", "你们到底什么时候给我答复？", "我要找你们领导", "希望你们能真正改进",
                   "再不解决我就去银保监投诉", "这个处理结果我不接受"],
        "good": [
            "非常抱歉给您带来不好的体验，我已详细记录您的投诉，工单号{ticket}，服务经理会在24小时内联系您处理。",
            "关于{fee_type}的扣费，我核实后确认不应收取，已为您申请退还{amount}，3个工作日内到账。",
            "您反映的{branch}的问题我们已转给网点负责人，会调整窗口安排并对员工进行培训，感谢您的监督。",
            "您的建议非常宝贵，我已提交给产品团队，后续版本会优化流程，谢谢您的反馈。",
            "理解您的心情，我这边为您升级处理，由投诉专员专门跟进，并在{date_future}给您明确答复。",
            "已为您登记营销电话免打扰，30天内生效，期间如再接到推销电话可直接告诉我们工号。",
        ],
        "curt": ["投诉你可以去网点投。", "规定就是这样，不是我们乱扣。", "我已经记了，等通知吧。", "这个我管不了。"],
    },
    "product_info": {
        "open": [
            "你们银行有哪些{product_type}？", "介绍一下{product}吧", "{product}和{product2}有什么区别？",
            "你们的{card}有什么特色功能？", "新出的{product}是什么产品？", "有没有适合老年人的产品？",
            "给孩子存钱有什么产品推荐", "{product}的期限是多长",
        ],
        "follow": ["有没有宣传资料可以看？", "适合什么样的人？", "在哪里可以办理？", "有最低金额要求吗？", "风险高吗？",
                   "能提前支取吗？"],
        "good": [
            "{product}是一款中低风险产品，期限灵活，起点金额1万元，适合追求稳健收益的客户，详细介绍可在{app}查看。",
            "两者主要区别在于期限和流动性：{product}可随时赎回，{product2}需持有到期，收益相对更高。",
            "我们的{card}支持免费跨行转账、全国ATM取款免手续费，还可以绑定第三方支付使用。",
            "针对老年客户我们有“安享”系列，包括养老理财和大额存单，网点还设有适老化专窗。",
            "我把产品说明书发到您的{app}消息中心，您也可以到{branch}找理财经理详细了解。",
            "儿童专属账户可以由父母代开，搭配教育金储蓄计划，每月{amount_small}起存，到期一次性支取。",
        ],
        "curt": ["产品介绍官网都有。", "去网点问吧。", "都差不多。", "自己看说明。"],
    },
    "fee_inquiry": {
        "open": [
            "为什么扣了我{fee}元{fee_type}？", "{fee_type}怎么收费的？", "跨行取现手续费是多少？", "我的卡要交年费吗？",
            "短信通知费能取消吗？每个月扣{fee}块", "异地取款收不收费？", "{fee_type}能不能减免", "汇款到外地要收手续费吗",
        ],
        "follow": ["能退回来吗？", "以后怎么避免被扣？", "为什么之前没通知我？", "别的银行都不收这个", "收费标准在哪里看？",
                   "那我要存多少钱才不扣？"],
        "good": [
            "您被扣的{fee}元是{fee_type}，根据收费标准，账户日均余额低于300元会收取，我们可以帮您申请减免。",
            "短信通知费每月2元，可在{app}“账户设置—短信提醒”中关闭，或改为免费的APP推送提醒。",
            "本行ATM取现免费，跨行取现每笔2元，境外取现按金额的1%收取，最低12元，收费标准在{app}“费率公告”可查。",
            "{card}首年免年费，每年刷卡满6次可免次年年费，我已为您核实本年度已满足条件。",
            "已为您提交{fee_type}的退费申请，审核通过后3个工作日内退回原账户，今后日均余额保持300元以上即可免收。",
        ],
        "curt": ["收费标准是统一的。", "扣了就退不了。", "看收费公告吧。", "别的银行我不管。"],
    },
    "password_reset": {
        "open": [
            "我忘记{app}的登录密码了", "银行卡密码输错{n_wrong}次被锁了", "怎么重置交易密码？", "密码被锁了，转账转不了",
            "想改一下{card}的取款密码", "重置密码收不到验证码", "密码忘了，卡里还有{amount}取不出来", "支付密码和登录密码是一个吗",
        ],
        "follow": ["必须去柜台吗？", "锁定多久能自动解锁？", "新密码有什么要求？", "身份证不在身边怎么办？", "能在APP上改吗？",
                   "预留手机号换了怎么办？"],
        "good": [
            "您可以在{app}登录页点击“忘记密码”，验证身份证号、预留手机号并完成人脸识别后即可重置登录密码。",
            "密码连续输错被锁定后，24小时后会自动解锁，急用的话可在{app}通过人脸识别立即解锁。",
            "取款密码需要本人携带身份证和银行卡到网点柜台或智能柜员机重置，全程约5分钟。",
            "新密码需为6位数字，不能是连续或重复数字，也不要使用生日等容易被猜到的组合。",
            "为了您的资金安全，客服无法直接修改密码，我把重置步骤发到您的手机上，按步骤操作即可。",
            "预留手机号变更需先到网点更新，更新后就可以在{app}上自助重置密码了。",
        ],
        "curt": ["密码自己重置。", "锁了就等24小时。", "去柜台办。", "客服改不了密码。"],
    },
    "account_opening": {
        "open": [
            "我想开一个{account_type}", "开户需要带什么证件？", "可以线上开户吗？不想跑网点", "我是{identity}，能在你们这开户吗？",
            "公司开对公账户要多久？", "想给孩子开个户", "开{account_type}有什么要求", "{branch}能办开户吗？要预约吗",
        ],
        "follow": ["需要预约吗？", "开户要存多少钱？", "当天能拿到卡吗？", "有没有开户礼？", "开户要多长时间？",
                   "能同时开两个账户吗？"],
        "good": [
            "开立{account_type}需携带本人有效身份证件和手机号，到任意网点办理，约15分钟可完成，当天即可领卡。",
            "二类电子账户可以在{app}在线开立，上传身份证并完成人脸识别即可，单日限额1万元。",
            "{identity}可以开户，需要额外提供居住证明或工作证明，建议先在{app}预约，减少排队。",
            "对公账户需要营业执照、法人身份证和公章，资料齐全的情况下3个工作日内完成开户。",
            "未成年人开户需要父母携带户口本、出生证明和双方身份证到网点办理，开户无最低存款要求。",
        ],
        "curt": ["带身份证去网点。", "线上开不了。", "资料不全办不了。", "开户要排队的。"],
    },
    "account_closing": {
        "open": [
            "我想把{card}注销掉", "销户需要去网点吗？", "卡不用了怎么销户？里面还有{amount}", "在外地能销{city}开的卡吗？",
            "我要注销账户，你们扣费太多了", "人在国外，怎么注销国内的卡？", "电子账户怎么注销", "公司不经营了，对公账户怎么销户",
        ],
        "follow": ["余额怎么处理？", "销户后还能查以前的记录吗？", "有没有未结清的费用？", "绑定的自动扣款怎么办？",
                   "可以委托别人去办吗？", "销户要多久？"],
        "good": [
            "销户需本人携带身份证和银行卡到网点办理，柜员会先帮您结清余额和利息，确认无欠费后当场注销。",
            "销户前请先解绑{app}、第三方支付和自动扣款，否则可能影响扣款业务，余额可转到您其他账户。",
            "{card}可以在全国任意网点销户，不受开户地限制，电子账户可以直接在{app}中注销。",
            "销户后历史交易记录仍然可以在网点打印查询，保留期限为15年。",
            "您账户还有一笔{fee}元未缴的{fee_type}，需先结清才能销户，我可以帮您申请减免。",
        ],
        "curt": ["去开户网点销。", "欠费先交清。", "电话里销不了。", "本人去办。"],
    },
    "promotions": {
        "open": [
            "最近有什么{promo}吗？", "{promo}怎么参加？", "我参加了{promo}，奖励怎么还没到账？",
            "{date}刷卡消费满{amount_small}，返现什么时候到？", "信用卡积分能换什么？", "新用户有优惠吗？",
            "看到你们有{promo}，我能参加吗", "{promo}的券在哪里领",
        ],
        "follow": ["有次数限制吗？", "哪些商户可以用？", "活动截止到什么时候？", "能叠加使用吗？", "老用户能参加吗？",
                   "券过期了还能补吗？"],
        "good": [
            "目前{promo}正在进行中，在{app}“活动”页报名后，单笔消费满{amount_small}即可享受优惠，每月限3次。",
            "您参加的{promo}奖励会在活动结束后15个工作日内发放，我已核实您已满足条件，请留意到账短信。",
            "信用卡积分可以兑换航空里程、视频会员和商城礼品，积分有效期3年，在{app}“积分商城”兑换。",
            "新户首次开通{app}并绑卡可领取新户礼包，包含10元立减券和理财体验金。",
            "活动截止到本月底，不能与其他优惠叠加，参与门店可以在活动页查看，优惠券在“我的-卡券”中领取。",
        ],
        "curt": ["活动都在{app}上，自己看。", "没到账就再等等。", "活动已经结束了。", "名额满了。"],
    },
    "branch_locator": {
        "open": [
            "{city}{district}附近有你们的网点吗？", "{branch}周末营业吗？", "最近的ATM在哪里？", "{branch}几点下班？",
            "哪个网点可以办外币业务？", "{branch}能换零钱吗？", "{district}有24小时自助银行吗", "{branch}的地址和电话是多少",
        ],
        "follow": ["需要提前预约吗？", "停车方便吗？", "那里有大堂经理吗？", "电话是多少？", "节假日开门吗？",
                   "能存硬币吗？"],
        "good": [
            "{branch}位于{district}中心路88号，营业时间周一至周五9:00-17:00，周六上午9:00-12:00。",
            "您可以在{app}“网点查询”中查看附近网点和排队人数，并在线取号，到店即可办理。",
            "{district}共有3家网点，离您最近的是{branch}，步行约10分钟，旁边的24小时自助银行有ATM。",
            "外币业务建议前往{branch}，需提前一天预约，大额取现5万元以上也需要预约。",
            "{branch}周末正常营业，节假日时间以网点公告为准，我把导航链接和网点电话发给您。",
        ],
        "curt": ["地图上搜一下。", "周末不开门。", "不清楚，你打网点电话。", "网点信息官网有。"],
    },
    "exchange_rate": {
        "open": [
            "今天{currency}汇率多少？", "我想换{amount_fx}{currency}，按什么价格算？", "{currency}现在是买入好还是再等等？",
            "个人购汇额度每年是多少？", "现钞和现汇价格为什么不一样？", "在{app}上能直接买{currency}吗？",
            "出国留学要换{currency}，怎么办理", "{currency}结汇成人民币怎么操作",
        ],
        "follow": ["汇率多久更新一次？", "需要手续费吗？", "能预约到网点取现钞吗？", "可以设置汇率提醒吗？",
                   "额度用完了怎么办？", "结汇有限额吗？"],
        "good": [
            "当前{currency}现汇卖出价以{app}“外汇”频道实时报价为准，汇率随市场实时更新。",
            "个人每年便利化购汇额度为等值5万美元，您本年度已使用{used_quota}美元，留学用途可凭录取通知书超额办理。",
            "现钞价低于现汇价是因为现钞有运输和保管成本，购汇后直接汇出境外建议选择现汇。",
            "购汇{amount_fx}{currency}无需手续费，提取现钞需提前1个工作日在{app}预约网点。",
            "您可以在{app}设置目标汇率提醒，达到价格时会推送通知，汇率走势我们无法预测，请理性决策。",
        ],
        "curt": ["汇率实时变的，自己看。", "涨跌我们不知道。", "额度用完就不能换了。", "去网点换。"],
    },
    "repayment_reminder": {
        "open": [
            "我的信用卡账单什么时候还？", "{loan}这个月的月供扣了吗？", "忘记还款了，会不会影响征信？", "这期最低还款额是多少？",
            "还款日能改吗？", "收到短信说我逾期了，我明明{date}还了", "这个月账单{amount}，能分期还吗", "{loan}扣款失败了怎么办",
        ],
        "follow": ["能设置自动还款吗？", "有没有宽限期？", "利息怎么算？", "提前还款怎么操作？", "逾期会有罚息吗？",
                   "还款会有提醒吗？"],
        "good": [
            "您本期账单金额{amount}，到期还款日为{date_future}，最低还款额为账单的10%，建议全额还款避免利息。",
            "我行提供3天还款宽限期，在宽限期内还款不算逾期、不影响征信，逾期后按日收取万分之五利息。",
            "您可以在{app}设置自动还款，绑定{card}后每月到期日自动扣款，避免忘记还款。",
            "已查询到您{date}的还款已入账，逾期短信是系统延迟发送的，记录已更正，不会影响征信。",
            "{loan}本月月供已于扣款日成功扣除，下期扣款前3天会短信提醒，请保持扣款账户余额充足。",
            "账单可以申请分期，{term}手续费率为每期0.6%，在{app}“账单分期”中办理即可。",
        ],
        "curt": ["逾期了就按规定收费。", "账单上都写了。", "还款日改不了。", "扣款失败就自己还。"],
    },
    "risk_assessment": {
        "open": [
            "风险评估怎么做？", "我的风险测评过期了，要重新做吗？", "为什么我买不了{product}？提示风险等级不匹配",
            "风险评估结果是{risk_level}，能改吗？", "测评结果一年有效吗？", "{app}上风险测评入口在哪里？",
            "风险承受能力评估要答多少题", "帮我家人做一下风险测评可以吗",
        ],
        "follow": ["一年能做几次？", "做完多久生效？", "不同等级能买什么产品？", "可以代家人做吗？", "测评结果怎么查？",
                   "重新测评会影响已买的产品吗？"],
        "good": [
            "您可以在{app}“理财—风险测评”完成问卷，共10道题约5分钟，结果即时生效，有效期一年。",
            "您的测评结果为{risk_level}，只能购买R{level_max}及以下风险等级的产品，{product}为R{product_level}，所以无法购买。",
            "测评每年最多可做2次，请根据真实情况作答，如果财务状况发生变化可以重新测评，已购产品不受影响。",
            "风险测评必须本人完成，不能代做，这是监管对投资者适当性管理的要求。",
            "保守型对应R1产品，稳健型R2，平衡型R3，成长型可以购买R4及以下，我把对照表发给您。",
        ],
        "curt": ["自己去做测评。", "等级不够就买不了。", "规定的，改不了。", "测评结果系统定的。"],
    },
    "other": {
        "open": [
            "你们客服工作时间是几点到几点？", "怎么开存款证明？", "{city}的公积金能在你们这查吗？", "我想打印一下银行流水",
            "你们有英文服务吗？", "怎么修改预留的地址？", "可以办理{other_service}吗？", "我想咨询一个问题",
            "你们银行的客服邮箱是什么",
        ],
        "follow": ["要收费吗？", "当天能拿到吗？", "可以代办吗？", "需要带什么？", "网上能办吗？", "要多久？"],
        "good": [
            "人工客服7×24小时服务，{app}在线客服也可以随时咨询。",
            "存款证明需本人携带身份证到网点开立，工本费每份20元，当天可取。",
            "银行流水可以在{app}“交易明细”中申请电子版，加盖电子签章，与纸质版具有同等效力。",
            "地址修改可以在{app}“个人信息”中直接完成，也可以到网点柜台办理。",
            "{other_service}需要本人到网点办理，建议先在{app}预约，我把所需材料清单发给您。",
        ],
        "curt": ["这个不归我们管。", "去网点问吧。", "不清楚。", "你问别的部门。"],
    },
}

# Phrasings shared by a group of related intents (index into AMBIGUOUS_GROUPS).
ZH_AMBIGUOUS = [
    ["帮我看看我账户里的情况", "我想查一下我的{card}", "查询一下账户信息", "我卡里现在什么情况？"],
    ["我想办一张卡", "办卡需要带什么材料？", "想在你们银行申请张新卡", "新办的卡多久能拿到？"],
    ["我的贷款这个月要还多少？", "贷款的事想问一下", "贷款还款是怎么算的？"],
    ["{app}登录不上去了", "登录的时候一直提示错误", "{app}用不了了"],
    ["我想买理财，需要先做什么？", "我能买哪种风险的产品？", "理财要满足什么条件？"],
    ["你们有什么保障类的产品推荐吗？", "想了解一下你们的产品", "有没有适合家庭的产品？"],
    ["我要往国外汇{amount_fx}{currency}", "境外汇款怎么算钱？", "往国外打钱怎么操作？"],
    ["卡不用了，要交什么费用吗？", "不用的卡会一直扣费吗？", "这张卡要不要交钱？"],
    ["现在办信用卡有什么礼品吗？", "办卡有优惠吗？", "申请卡送什么？"],
    ["我有个问题想反映一下", "有个事情想说一下", "想跟你们提个意见"],
]

ZH_GENERIC = {
    "greeting": ["", "", "", "你好，", "您好，", "在吗？", "客服你好，", "hi，", "你好客服，", "喂，你好，"],
    "polite": ["", "", "", "请问", "麻烦问一下，", "想咨询一下，", "打扰一下，", "问一下，"],
    "neg_prefix": ["你们怎么回事？", "真的很生气，", "又出问题了！", "烦死了，", "太离谱了，"],
    "tail": {
        "negative": ["", "急！", "这都第二次问了。", "很着急，麻烦快点。", "真是无语了。", "到底能不能解决？"],
        "neutral": ["", "", "谢谢。", "麻烦了。", "谢谢"],
        "positive": ["", "谢谢～", "麻烦你了，谢谢！", "辛苦啦", "谢谢你们！"],
    },
    "follow": {
        "negative": ["怎么这么麻烦？", "你们这效率也太低了吧", "我已经等了{duration}了！", "上次也是这么说的，到现在还没解决",
                     "能不能直接给我解决？别再让我跑了", "太失望了", "你们就不能一次说清楚吗？"],
        "neutral": ["好的，那大概需要多久？", "明白了，还需要准备什么吗？", "嗯，那我在{app}上能操作吗？", "好的，我知道了",
                    "那有没有其他办法？", "嗯嗯", "好的，我试一下"],
        "positive": ["好的，太感谢了！", "明白了，你们服务真不错", "好的好的，辛苦了", "清楚了，谢谢你的耐心解答",
                     "太好了，解决了"],
    },
    "close": {
        "negative": ["算了，我再想想办法吧", "行吧，希望这次能解决", "不用了", "那就这样吧，我会继续投诉的"],
        "neutral": ["好的，就这样吧", "好的谢谢", "嗯，没有其他问题了", "行，我知道了"],
        "positive": ["谢谢，没有其他问题了", "好的，非常感谢！", "太好了，谢谢你！再见", "明白了，辛苦了！"],
    },
    "agent_open": ["", "您好，很高兴为您服务。", "您好，", "您好，工号{agent_no}为您服务。", "您好，感谢您的耐心等待。"],
    "agent_apology": ["非常抱歉给您带来不便，", "理解您的心情，", "抱歉让您久等了，", "很抱歉，"],
    "agent_close": ["请问还有其他可以帮您的吗？", "感谢您的耐心，祝您生活愉快！", "稍后会有满意度评价短信，欢迎您对我的服务进行评价。",
                    "如还有疑问，随时联系我们，再见。"],
    "agent_curt_close": ["没别的事就先这样。", "就这样吧。", "其他的我不清楚。", "嗯。"],
    "system": ["系统提示：您已接入人工客服，当前排队{queue}人。", "系统提示：会话已由智能客服转接人工。"],
    "pii": ["我手机号是{phone}", "预留手机{phone}，可以打给我", "卡号是{cardno}", "我的卡号{cardno}", "邮箱是{email}，可以发到这个邮箱",
            "联系电话{phone}"],
    "pii_join": ["，", "。", " "],
}

EN_INTENTS = {
    "account_inquiry": {
        "open": [
            "I'd like to check the status of my {card} account", "Is my account frozen? The {app} says there's a problem",
            "Can you check whether the account ending {last4} is active?", "Why has my card suddenly stopped working, is something wrong with my account?",
            "How many accounts do I have in my name?", "I can't see my {card} account in the {app}, what happened?",
            "What type of account is this and what's the transfer limit?", "My account is restricted, it says incoming only",
            "Which branch holds my account? I need it for my payroll form",
        ],
        "follow": ["How do I get the restriction lifted?", "Do I need to come into a branch?", "Are my other accounts affected?",
                   "How long until the account is back to normal?", "Why was it restricted? I didn't do anything",
                   "Can I upgrade the account?"],
        "good": [
            "To keep your account safe, let me verify your identity first: please confirm your date of birth and the last four digits of your registered phone.",
            "I've checked: the account ending {last4} is active, and you can see its type and limits under My Accounts in the {app}.",
            "The account was set to incoming-only because it was dormant; you can reactivate it with a face check in the {app} or with ID at any branch.",
            "You have {n_accounts} accounts in your name; one is an online-only account with a daily limit of 10,000, which you can upgrade.",
            "The account was flagged because your ID document has expired; once you update it in the {app} it's restored within 1 business day, other accounts aren't affected.",
            "The account ending {last4} is held at our {branch}; the full branch details can be copied from Account Details in the {app}.",
        ],
        "curt": ["Check the account status in the {app} yourself.", "Can't look that up here, go to a branch.",
                 "That's what the system shows, nothing I can do.", "If it's restricted there's a reason."],
    },
    "balance_inquiry": {
        "open": [
            "I'd like to check the balance on my {card}", "How much is left on the card ending {last4}?",
            "The balance in the {app} looks wrong, {amount} came in {date}", "Why is my balance {amount} lower than it should be?",
            "How do I check my balance? I can't find it in the {app}", "Has my salary arrived? What's my balance now?",
            "Why is my available balance different from my account balance?", "Can you tell me my balance and recent transactions?",
            "Why is my balance showing negative?",
        ],
        "follow": ["Can you send me last month's transactions?", "What is that {amount} charge?", "When will the available balance go back up?",
                   "Can I get balance alerts by text?", "So how much can I actually spend now?", "What's the amount on hold?"],
        "good": [
            "I've checked: the card ending {last4} has an available balance of {balance}, with {amount} on hold until {date_future}.",
            "Tap Accounts Overview on the {app} home screen for your live balance; Transactions can be filtered by date, and I can email you the last 30 days.",
            "Your available balance is lower because a merchant pre-authorisation is holding funds; it's released automatically within 7 business days.",
            "Your salary from {date} was credited the same day and is included in your balance; I'd suggest turning on balance alerts.",
            "The {amount} is the {fee_type}; I've pulled up the transaction details and can open a review if anything looks wrong.",
            "If you won't need the money soon, our {product} lets you withdraw any time and earns more than a standard savings rate.",
        ],
        "curt": ["Check your balance in the {app}.", "Export the statement yourself.", "A charge is a charge, the system doesn't make mistakes.",
                 "If you can't see it, it hasn't arrived."],
    },
    "transfer": {
        "open": [
            "I need to send {amount} to {payee}, how do I do it?", "The {amount} I sent {date} hasn't reached the other side",
            "How long does a transfer to another bank take?", "It says I'm over the limit, I want to send {amount}",
            "I sent {amount} to the wrong person, can you reverse it?", "My transfer in the {app} keeps failing, I've checked the account number",
            "Do I have to come in for a large transfer? It's {amount} to {payee}", "Can I schedule a transfer for tomorrow?",
            "I got the payee's name wrong on a payment to {payee}, what now?",
        ],
        "follow": ["What does a transfer cost?", "Can the limit be raised temporarily?", "What if they won't send it back?",
                   "Can you see whether they received it?", "So where is the money now?", "Where do I download the payment receipt?"],
        "good": [
            "Please double-check the payee's name, account number and bank, then go to Transfers in the {app}, enter {amount} and confirm with the text code.",
            "I can see your transfer from {date} is still processing; transfers to other banks usually arrive within 2 hours and at the latest the next business day, and I'll keep an eye on it.",
            "Your {app} limit is 50,000 per payment; you can raise it temporarily under Security > Limits with a face check.",
            "For a payment to the wrong account we contact the receiving bank to request a recall; I've logged it now and you'll get text updates.",
            "Transfers within our bank are free and so are transfers to other banks in the {app}; receipts can be downloaded from the transaction details.",
            "A failed transfer usually means the name and account number don't match; the money has already been returned to your account.",
        ],
        "curt": ["If you sent it to the wrong person that's on you, contact them.", "The limit is the limit.",
                 "Just wait, it'll arrive when it arrives.", "Try again yourself."],
    },
    "credit_card_application": {
        "open": [
            "I'd like to apply for a {cc}", "What do I need to qualify for a credit card?", "Where is my credit card application from {date}?",
            "My credit card application was declined, why?", "What credit limit would I get on the {cc}?", "Can students get a credit card?",
            "I want an additional credit card for my partner", "Do I need proof of income for a credit card?",
            "When will the {cc} I applied for online arrive?",
        ],
        "follow": ["Is there an annual fee? Can it be waived?", "How long does approval take?", "Can I get a higher limit later?",
                   "Do you need payslips?", "Where will the card be posted? Can I change the address?", "How long before I can reapply?"],
        "good": [
            "For the {cc} you need to be 18 or over with a regular income; apply under Cards in the {app} with your ID, and approval takes 3 to 5 business days.",
            "Your application is at the credit check stage and should be decided by {date_future}; once approved the card is posted to your billing address.",
            "The application was declined mainly because of several recent credit searches; I'd suggest waiting 3 months and keeping up your repayments elsewhere.",
            "The {cc} has no fee in the first year, and the fee is waived if you use it 6 times a year; you can request a limit increase after six months.",
            "Additional cardholders must be 16 or over and share your limit; you can set a separate spending cap on their card.",
            "Payslips aren't required, but showing regular salary credits can help you get a higher limit; you'll get a tracking number by text when it ships.",
        ],
        "curt": ["The decision comes by text, I can't see it.", "Declined means you didn't qualify.", "Apply online yourself.",
                 "The system sets the limit."],
    },
    "loan_inquiry": {
        "open": [
            "I'd like to know about a {loan}, what's the interest rate?", "How much can I borrow with a {loan}? I need {amount}",
            "What documents do I need for a {loan}?", "My {loan} application has taken {duration} already, why so slow?",
            "Is there a penalty for paying off my {loan} early?", "Can I repay the {loan} over {term}?",
            "I missed one payment on my credit file, can I still get a {loan}?", "Can I apply for a {loan} online?",
            "I want to borrow {amount} for my business, what do you offer?",
        ],
        "follow": ["What would the monthly payment be?", "How quickly is the money paid out?", "Can I borrow with a late payment on my file?",
                   "Can I apply online?", "Is the rate fixed or variable?", "Do I need collateral?"],
        "good": [
            "Our {loan} currently starts at {rate}% APR, subject to approval, over {term}; I can work out the monthly payment for you.",
            "For a {loan} we need ID, proof of income and 6 months of statements, plus your company registration for business loans; you can get a pre-approval in the {app}.",
            "For {amount} over {term} the monthly payment would be about {monthly}, and there's no early repayment charge after the first year.",
            "Your application is in the final risk review; I've flagged it as urgent and an adviser will call you within 1 business day, with payout 1 to 3 days after approval.",
            "A single late payment doesn't rule you out; the amount depends on your credit file and income, and personal loans need no collateral.",
        ],
        "curt": ["Rates are on the website.", "We can't speed up approval.", "Incomplete documents, no loan.",
                 "If your credit is bad don't bother applying."],
    },
    "wealth_management": {
        "open": [
            "What investment products have better returns right now?", "Can I still buy the {product}? What's the yield?",
            "I have {amount} spare and want something low risk", "My {product} has matured, when does the money come back?",
            "Can I lose money on your investment products?", "I want to invest {amount_small} a month in a fund, any suggestions?",
            "Which pays more, the {product} or a fixed deposit?", "Why are my investment returns lower than last month?",
            "Do you have any capital-guaranteed investments?",
        ],
        "follow": ["What's the minimum investment?", "Can I cash out any time?", "Is it better than a fixed deposit?",
                   "How are returns calculated?", "Are the fees high?", "When does it start earning?"],
        "good": [
            "Based on your risk profile I'd suggest the {product}, with a target return of {rate}% a year from 10,000, available under Invest in the {app}.",
            "Your {product} matured {date}; the principal and returns will be back in your {card} account within 1 to 2 business days.",
            "Investments aren't capital-guaranteed and past performance isn't a guide to the future; if protecting capital matters most, consider a term deposit.",
            "A monthly plan spreads your entry points; a broad index fund from {amount_small} a month works well and you can pause any time.",
            "I can book you a review with one of our wealth advisers; I've registered the request and they'll call you within 24 hours.",
            "The {product} starts earning the next business day and redemptions settle the day after; you can see daily returns in the {app}.",
        ],
        "curt": ["Everything's in the {app}, pick one.", "Can't say if you'll lose money.", "Read the fact sheet.",
                 "Nothing is guaranteed."],
    },
    "insurance_inquiry": {
        "open": [
            "How do I buy the {insurance} you sell?", "I'd like to know about {insurance}, how much cover do I get?",
            "Can I cancel the {insurance} I bought {date}?", "What do I need to make a claim on my {insurance}?",
            "How much is {insurance} per year?", "Where can I find the policy for the {insurance} I bought through you?",
            "Is there an age limit for {insurance} for my parents?", "Can I buy {insurance} directly in the {app}?",
        ],
        "follow": ["How long is the cooling-off period?", "How long does a claim take to pay?", "Is there a waiting period?",
                   "Can my elderly parents still get cover?", "Can I pay monthly?", "Will I lose money if I cancel?"],
        "good": [
            "The {insurance} is underwritten by our partner insurer; cover ranges from 100,000 to 500,000 and you can read the terms and buy under Insurance in the {app}.",
            "Your policy is still inside the 15-day cooling-off period, so you can cancel for a full refund; I'm sending you the cancellation link.",
            "For a claim you'll need the policy number, ID, medical records and receipts; the insurer reviews it within 10 business days and pays within 3 days of approval.",
            "The {insurance} has a 90-day waiting period, after which claims are paid normally; the policy details are under My Policies in the {app}.",
            "Customers over 60 can get some accident and health cover subject to a health declaration; I'll send you a list of suitable products, and monthly payments are available.",
        ],
        "curt": ["Ask the insurer about insurance.", "Read the terms.", "Cancelling costs money, your call.", "Too old for cover."],
    },
    "technical_support": {
        "open": [
            "The {app} {error} as soon as I open it", "When I log in the {app} {error}, I've tried several times",
            "The page froze during a transfer, was I charged?", "I've got a new phone, how do I set up the {app}?",
            "My security token isn't recognised by my computer", "Since the update the {app} {error}",
            "Fingerprint login has stopped working", "QR code payments keep failing", "The online banking plug-in won't install, the browser says it's unsafe",
        ],
        "follow": ["Clearing the cache didn't help", "It's an Android phone on the latest version", "Will I lose data if I reinstall?",
                   "Is there a desktop version I can use?", "Does this happen on iPhones too?", "So was the money taken or not?"],
        "good": [
            "Please update the {app} to the latest version, clear the cache and log in again; if it still {error}, reinstall it, your account data won't be lost.",
            "If the verification code doesn't arrive it may be blocked by a spam filter; check your phone's blocked messages or choose a voice code instead.",
            "To set up a new phone, choose Change Device on the {app} login screen and verify with your ID and a face check; the old device is removed automatically.",
            "I've raised a technical ticket, reference {ticket}, and a specialist will call you within 2 hours, please keep your phone on.",
            "This is a known issue fixed in tonight's update; in the meantime you can use online banking in your browser, sorry for the trouble.",
            "If the page failed the payment wasn't submitted and no money was taken; check Transactions, and any debit is returned within 24 hours.",
        ],
        "curt": ["Just reinstall it.", "Sounds like a problem with your phone.", "The system is fine on my side.",
                 "Try a different network."],
    },
    "complaint": {
        "open": [
            "I want to complain about the staff at your {branch}, they were really rude", "I queued for {duration} and only one counter was open",
            "You charged me a {amount} {fee_type} for nothing, I want to complain", "I tried to call your helpline for {duration} and couldn't get through",
            "I complained {duration} ago and nobody has replied", "I suggest you simplify the transfer steps in the {app}",
            "The adviser never told me I could lose money on that product, I want to complain", "Stop calling me with sales offers every day",
            "The ATM swallowed my card and the branch says wait three days",
        ],
        "follow": ["I want the fee refunded and an apology", "When exactly will I get an answer?", "I want to speak to a manager",
                   "I hope you actually improve this", "If this isn't fixed I'm going to the ombudsman", "I don't accept that outcome"],
        "good": [
            "I'm very sorry for this experience; I've recorded your complaint in full under reference {ticket} and a service manager will contact you within 24 hours.",
            "I've checked the {fee_type} and it shouldn't have been charged; I've requested a refund of {amount}, which will reach you within 3 business days.",
            "I've passed what happened at the {branch} to the branch manager, who will review staffing and coach the team; thank you for telling us.",
            "That's a really useful suggestion; I've logged it with the product team so the flow can be simplified in a future release.",
            "I understand why you're upset; I'm escalating this to a complaints specialist who will give you a clear answer by {date_future}.",
            "I've added you to our do-not-call list, effective within 30 days; if you get another sales call please tell us the caller's ID.",
        ],
        "curt": ["You can complain at a branch.", "Those are the rules, we didn't charge you for nothing.", "I've noted it, wait to hear back.",
                 "Not my department."],
    },
    "product_info": {
        "open": [
            "What {product_type} do you offer?", "Can you tell me about the {product}?", "What's the difference between the {product} and the {product2}?",
            "What features does your {card} have?", "What is the new {product}?", "Do you have products suitable for older customers?",
            "What can I use to save for my children?", "How long is the term on the {product}?",
        ],
        "follow": ["Is there a brochure I can read?", "Who is it suitable for?", "Where can I sign up?", "Is there a minimum amount?",
                   "Is it risky?", "Can I withdraw early?"],
        "good": [
            "The {product} is a low-to-medium risk product with a flexible term from 10,000, suited to customers looking for steady returns; full details are in the {app}.",
            "The main difference is access: the {product} can be redeemed any time, while the {product2} is held to maturity and pays a little more.",
            "Our {card} has free transfers to other banks, no fees at any ATM in the country, and works with mobile wallets.",
            "For older customers we have the Comfort range, including retirement income products and term deposits, and our branches have priority counters.",
            "I've sent the product brochure to your {app} inbox, and an adviser at our {branch} can go through it with you.",
            "A children's account can be opened by a parent and paired with an education savings plan from {amount_small} a month.",
        ],
        "curt": ["It's all on the website.", "Ask at a branch.", "They're all much the same.", "Read the brochure."],
    },
    "fee_inquiry": {
        "open": [
            "Why was I charged a {fee} {fee_type}?", "How much is the {fee_type}?", "What does it cost to use another bank's ATM?",
            "Do I have to pay an annual fee on my card?", "Can I cancel the SMS alerts? You take {fee} every month",
            "Is there a fee for withdrawing cash in another city?", "Can the {fee_type} be waived?", "Do you charge for sending money to another region?",
        ],
        "follow": ["Can I get it refunded?", "How do I avoid this in future?", "Why wasn't I told beforehand?", "Other banks don't charge this",
                   "Where can I see the fee schedule?", "How much do I need to keep in the account to avoid it?"],
        "good": [
            "The {fee} was the {fee_type}, charged when the average daily balance falls below 300 under our fee schedule; I can request a waiver for you.",
            "SMS alerts cost 2 a month; you can switch them off under Settings > Alerts in the {app} or use free push notifications instead.",
            "Our own ATMs are free, other banks' ATMs cost 2 per withdrawal and overseas withdrawals 1% with a minimum of 12; the fee schedule is in the {app}.",
            "The {card} has no annual fee in the first year and it's waived if you use the card 6 times a year; I can see you've already qualified this year.",
            "I've submitted a refund request for the {fee_type}; once approved it's returned within 3 business days, and keeping 300 or more in the account avoids it.",
        ],
        "curt": ["Fees are the same for everyone.", "Once charged it can't be refunded.", "Read the fee notice.",
                 "I don't care what other banks do."],
    },
    "password_reset": {
        "open": [
            "I forgot my {app} password", "I entered my card PIN wrong {n_wrong} times and it's locked", "How do I reset my payment password?",
            "My password is locked and I can't make transfers", "I want to change the PIN on my {card}", "I'm not getting the code to reset my password",
            "I forgot my PIN and can't take out my {amount}", "Is the payment password the same as the login password?",
        ],
        "follow": ["Do I have to go to a branch?", "How long until it unlocks by itself?", "What are the rules for a new password?",
                   "What if I don't have my ID with me?", "Can I change it in the app?", "I've changed my phone number, what now?"],
        "good": [
            "Tap Forgot Password on the {app} login screen, verify your ID number and registered phone and complete the face check to set a new password.",
            "After too many wrong attempts the lock clears automatically after 24 hours, or you can unlock it right away with a face check in the {app}.",
            "A card PIN has to be reset in person with your ID and card at a branch counter or self-service machine; it takes about 5 minutes.",
            "The new PIN must be 6 digits, not a sequence or repeated digits, and please avoid your birthday or anything easy to guess.",
            "For your security we can't change passwords for you; I've texted you the reset steps, just follow them one by one.",
            "If your registered phone number has changed, update it at a branch first and then you can reset the password yourself in the {app}.",
        ],
        "curt": ["Reset it yourself.", "It's locked, wait 24 hours.", "Go to a branch.", "We can't change passwords."],
    },
    "account_opening": {
        "open": [
            "I'd like to open a {account_type}", "What ID do I need to open an account?", "Can I open an account online? I don't want to visit a branch",
            "I'm {identity}, can I open an account with you?", "How long does it take to open a business account?",
            "I want to open an account for my child", "What are the requirements for a {account_type}?", "Can I open an account at the {branch}? Do I need an appointment?",
        ],
        "follow": ["Do I need an appointment?", "Is there a minimum deposit?", "Will I get the card the same day?", "Is there a welcome gift?",
                   "How long does it take?", "Can I open two accounts at once?"],
        "good": [
            "To open a {account_type} bring valid photo ID and your mobile number to any branch; it takes about 15 minutes and you leave with the card.",
            "An online-only account can be opened in the {app}: upload your ID and complete the face check, with a daily limit of 10,000.",
            "Customers who are {identity} can open an account with proof of address or employment; book an appointment in the {app} to skip the queue.",
            "A business account needs your company registration, the director's ID and the company seal; with everything in order it's open within 3 business days.",
            "For a child's account a parent brings the birth certificate and both parents' ID to a branch; there's no minimum deposit.",
        ],
        "curt": ["Bring your ID to a branch.", "Can't be done online.", "Missing documents, can't open it.", "There's a queue for that."],
    },
    "account_closing": {
        "open": [
            "I want to close my {card} account", "Do I need to visit a branch to close an account?", "I don't use this card any more, how do I close it? There's {amount} left",
            "Can I close an account opened in {city} from somewhere else?", "I want to close my account, your fees are too high",
            "I live abroad now, how do I close my account?", "How do I close my online-only account?", "My company has stopped trading, how do we close the business account?",
        ],
        "follow": ["What happens to the balance?", "Can I still see old statements after closing?", "Are there any outstanding fees?",
                   "What about my direct debits?", "Can someone else do it for me?", "How long does closing take?"],
        "good": [
            "Bring your ID and card to a branch; we'll pay out the balance and interest, check there's nothing owed and close it on the spot.",
            "Before closing please cancel the {app} link, mobile wallets and direct debits so no payments fail; the balance can go to another of your accounts.",
            "The {card} account can be closed at any branch nationwide, not only where it was opened, and online-only accounts can be closed in the {app}.",
            "Your statements stay available after closing; a branch can print them for up to 15 years.",
            "There's an unpaid {fee} {fee_type} on the account that has to be cleared first; I can request a waiver for you.",
        ],
        "curt": ["Go back to the branch where you opened it.", "Pay what you owe first.", "Can't close it over the phone.",
                 "You have to come in person."],
    },
    "promotions": {
        "open": [
            "Are there any {promo} deals at the moment?", "How do I join the {promo}?", "I joined the {promo} but haven't got my reward",
            "I spent {amount_small} on my card {date}, when does the cashback come?", "What can I get with my credit card points?",
            "Are there offers for new customers?", "I saw you're running a {promo}, am I eligible?", "Where do I collect the {promo} voucher?",
        ],
        "follow": ["Is there a limit on how many times?", "Which shops take it?", "When does the offer end?", "Can I combine it with other offers?",
                   "Can existing customers join?", "My voucher expired, can it be reissued?"],
        "good": [
            "The {promo} is running now: sign up on the Offers page in the {app} and any single purchase over {amount_small} qualifies, up to 3 times a month.",
            "Rewards for the {promo} are paid within 15 business days after it ends; I've checked and you qualify, so watch for a confirmation text.",
            "Credit card points can be swapped for air miles, streaming subscriptions or gifts in the Rewards Store in the {app}; points last 3 years.",
            "New customers who register for the {app} and add a card get a welcome pack with a 10 discount voucher and a savings bonus.",
            "The offer runs until the end of the month and can't be combined with others; participating shops are listed on the offer page and vouchers are under My Vouchers.",
        ],
        "curt": ["Offers are in the {app}, look yourself.", "Not paid yet, just wait.", "That offer has ended.", "It's fully booked."],
    },
    "branch_locator": {
        "open": [
            "Is there a branch near {district} in {city}?", "Is the {branch} open at weekends?", "Where's the nearest cash machine?",
            "What time does the {branch} close?", "Which branch handles foreign currency?", "Can I get change at the {branch}?",
            "Is there a 24-hour banking lobby in {district}?", "What's the address and phone number of the {branch}?",
        ],
        "follow": ["Do I need to book ahead?", "Is there parking?", "Is there someone to help at the branch?", "What's the phone number?",
                   "Is it open on bank holidays?", "Can I deposit coins there?"],
        "good": [
            "The {branch} is at 88 Centre Road in {district}, open Monday to Friday 9:00-17:00 and Saturday 9:00-12:00.",
            "You can see nearby branches and queue times under Find a Branch in the {app} and take a ticket online before you go.",
            "There are 3 branches in {district}; the closest is the {branch}, about 10 minutes' walk, with a 24-hour cash machine next door.",
            "For foreign currency go to the {branch} and book a day ahead; cash withdrawals over 50,000 also need an appointment.",
            "The {branch} is open at weekends as usual; holiday hours are posted at the branch, and I'll send you the map link and phone number.",
        ],
        "curt": ["Search the map.", "Closed at weekends.", "No idea, call the branch.", "Branch details are on the website."],
    },
    "exchange_rate": {
        "open": [
            "What's the {currency} rate today?", "I want to buy {amount_fx} {currency}, what rate will I get?", "Should I buy {currency} now or wait?",
            "What's the yearly limit for buying foreign currency?", "Why are the cash and transfer rates different?", "Can I buy {currency} directly in the {app}?",
            "I'm going to study abroad and need {currency}, how do I do it?", "How do I convert {currency} back into local currency?",
        ],
        "follow": ["How often does the rate change?", "Is there a fee?", "Can I order cash to pick up at a branch?", "Can I set a rate alert?",
                   "What if I've used up my allowance?", "Is there a limit on converting back?"],
        "good": [
            "The live {currency} selling rate is shown under Foreign Exchange in the {app}; it updates continuously with the market.",
            "The yearly allowance is the equivalent of 50,000 US dollars and you've used {used_quota} this year; study abroad can go above it with an offer letter.",
            "The cash rate is lower because physical notes cost more to transport and store; if you're sending the money abroad, use the transfer rate.",
            "There's no fee to buy {amount_fx} {currency}; for cash please book pickup at a branch in the {app} one business day ahead.",
            "You can set a target-rate alert in the {app} and we'll notify you when it's reached; we can't predict rates, so please decide carefully.",
        ],
        "curt": ["Rates change all the time, check yourself.", "We don't know if it'll go up.", "No allowance left, no exchange.",
                 "Go to a branch."],
    },
    "repayment_reminder": {
        "open": [
            "When is my credit card bill due?", "Has this month's {loan} payment been taken?", "I forgot to pay, will it affect my credit score?",
            "What's the minimum payment this month?", "Can I change my payment date?", "I got a text saying I'm overdue but I paid {date}",
            "My bill is {amount} this month, can I pay it in instalments?", "My {loan} direct debit failed, what do I do?",
        ],
        "follow": ["Can I set up automatic payments?", "Is there a grace period?", "How is interest worked out?", "How do I pay early?",
                   "Is there a late fee?", "Will I get a reminder?"],
        "good": [
            "Your statement balance is {amount}, due {date_future}; the minimum payment is 10% of the balance, but paying in full avoids interest.",
            "We give a 3-day grace period, so paying within it doesn't count as late or affect your credit file; after that daily interest applies.",
            "You can set up automatic payment in the {app} from your {card} so the bill is paid on the due date every month.",
            "I can see your payment from {date} has been received; the overdue text was sent by mistake, the record is corrected and your credit file isn't affected.",
            "This month's {loan} payment was collected on the due date; we'll text you 3 days before the next one, so please keep enough in the account.",
            "You can split the bill into instalments over {term} at 0.6% a month under Instalments in the {app}.",
        ],
        "curt": ["Late is late, the fees apply.", "It's all on the statement.", "The due date can't be changed.", "If the debit failed, pay it yourself."],
    },
    "risk_assessment": {
        "open": [
            "How do I do the risk assessment?", "My risk profile has expired, do I need to redo it?", "Why can't I buy the {product}? It says my risk level doesn't match",
            "My risk result is {risk_level}, can I change it?", "Is the risk questionnaire valid for a year?", "Where is the risk questionnaire in the {app}?",
            "How many questions are in the risk tolerance questionnaire?", "Can I do the risk questionnaire for a family member?",
        ],
        "follow": ["How many times a year can I take it?", "When does the result take effect?", "What can each level buy?",
                   "Can I do it for my family?", "Where do I see my result?", "Does redoing it affect what I already hold?"],
        "good": [
            "You'll find the questionnaire under Invest > Risk Profile in the {app}; it's 10 questions, takes about 5 minutes, applies immediately and lasts a year.",
            "Your profile is {risk_level}, which allows products up to R{level_max}; the {product} is rated R{product_level}, which is why you can't buy it.",
            "You can retake it up to twice a year; please answer honestly, and products you already hold aren't affected.",
            "The questionnaire has to be completed by the investor personally, it's a regulatory suitability requirement.",
            "Conservative allows R1 products, cautious R2, balanced R3 and growth up to R4; I'll send you the full table.",
        ],
        "curt": ["Do the questionnaire yourself.", "Wrong level, can't buy it.", "Those are the rules.", "The system decides the result."],
    },
    "other": {
        "open": [
            "What are your customer service hours?", "How do I get a proof of funds letter?", "Can I check my {city} pension account with you?",
            "I'd like to print my bank statements", "Do you have service in other languages?", "How do I change my registered address?",
            "Can you arrange a {other_service}?", "I have a general question", "What's your customer service e-mail address?",
        ],
        "follow": ["Is there a charge?", "Can I get it the same day?", "Can someone do it for me?", "What do I need to bring?",
                   "Can I do it online?", "How long does it take?"],
        "good": [
            "Our phone team is available 24/7 and you can also chat with us any time in the {app}.",
            "A proof of funds letter is issued at any branch with your ID; it costs 20 per copy and is ready the same day.",
            "You can download signed electronic statements under Transactions in the {app}; they're accepted like paper ones.",
            "You can change your address under Profile in the {app} or at any branch counter.",
            "A {other_service} has to be arranged at a branch; book in the {app} first and I'll send you the list of documents.",
        ],
        "curt": ["That's not our department.", "Ask at a branch.", "No idea.", "Ask someone else."],
    },
}

EN_AMBIGUOUS = [
    ["Can you check my account for me?", "I want to look at my {card}", "I need my account details", "What's going on with my card?"],
    ["I want to get a card", "What do I need to bring to get a card?", "I'd like a new card with your bank", "How long until a new card arrives?"],
    ["How much do I owe on my loan this month?", "I have a question about my loan", "How are loan payments worked out?"],
    ["I can't log in to the {app}", "It keeps giving an error when I sign in", "The {app} isn't working"],
    ["I want to invest, what do I need to do first?", "What risk level can I buy?", "What are the requirements to invest?"],
    ["What protection products would you recommend?", "I'd like to know more about your products", "Anything suitable for a family?"],
    ["I need to send {amount_fx} {currency} abroad", "How much does it cost to send money overseas?", "How do I pay someone abroad?"],
    ["I don't use this card, do I have to pay anything?", "Will an unused card keep being charged?", "Do I owe anything on this card?"],
    ["Do you give a gift for new credit cards?", "Are there any perks for getting a card?", "What do I get for applying?"],
    ["I want to raise an issue", "There's something I want to tell you about", "I'd like to give you some feedback"],
]

EN_GENERIC = {
    "greeting": ["", "", "", "Hi, ", "Hello, ", "Hi there, ", "Good morning, ", "Hey, ", "Hello again, "],
    "polite": ["", "", "", "Quick question: ", "Sorry to bother you, ", "I was wondering, ", "Can you help? ", "Please help, "],
    "neg_prefix": ["What is going on? ", "I'm really annoyed. ", "Again?! ", "This is ridiculous. ", "Seriously, "],
    "tail": {
        "negative": ["", " This is urgent!", " This is the second time I've asked.", " Please hurry up.", " Unbelievable.",
                     " Can you actually fix it?"],
        "neutral": ["", "", " Thanks.", " Thank you.", " thanks"],
        "positive": ["", " Thanks so much!", " Thank you, appreciate it!", " Cheers!", " Thanks a lot :)"],
    },
    "follow": {
        "negative": ["Why is this so complicated?", "Your service is so slow", "I've been waiting {duration} already!",
                     "That's what you said last time and it's still not fixed", "Can you just sort it out? I'm not coming in again",
                     "Very disappointing", "Why couldn't anyone tell me this before?"],
        "neutral": ["OK, how long will that take?", "Got it, do I need anything else?", "Can I do that in the {app}?", "OK, understood",
                    "Is there another way?", "ok", "Alright, I'll give it a try"],
        "positive": ["Great, thank you so much!", "Got it, really helpful service", "Perfect, thanks for your help",
                     "That's clear, thanks for being patient", "Brilliant, that fixed it"],
    },
    "close": {
        "negative": ["Forget it, I'll sort it out myself", "Fine, I hope it's fixed this time", "No thanks",
                     "Fine, but I'm taking this further"],
        "neutral": ["OK, that's all", "OK thanks", "No other questions", "Alright, got it"],
        "positive": ["Thanks, that's everything!", "Great, many thanks!", "Wonderful, thank you, bye", "Understood, thanks for your help!"],
    },
    "agent_open": ["", "Thanks for contacting us. ", "Hello, happy to help. ", "Hi, this is agent {agent_no}. ", "Thanks for waiting. "],
    "agent_apology": ["I'm sorry for the inconvenience. ", "I understand how frustrating this is. ", "Sorry for the wait. ",
                      "I apologise. "],
    "agent_close": ["Is there anything else I can help you with?", "Thanks for your patience, have a great day!",
                    "You'll get a short survey by text, we'd value your feedback.", "If anything else comes up just get in touch. Bye!"],
    "agent_curt_close": ["That's it then.", "OK.", "Nothing else I can do.", "Bye."],
    "system": ["System: you are now connected to an agent ({queue} customers ahead of you).",
               "System: the chat was transferred from the virtual assistant to an agent."],
    "pii": ["my mobile is {phone}", "you can call me on {phone}", "the card number is {cardno}", "my card number is {cardno}",
            "my e-mail is {email}, please send it there", "my number is {phone}"],
    "pii_join": [", ", ". ", " - "],
}

ZH_NAMES = {
    "surname": list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"),
    "given": list("伟芳娜秀敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鑫宇浩凯晨欣怡婷雪琳思远博文嘉睿子涵梓轩雨"),
    "company_city": ["上海", "杭州", "深圳", "成都", "武汉", "苏州", "南京", "厦门"],
    "company_word": ["恒信", "汇丰源", "嘉禾", "博远", "鼎盛", "锦程", "天成", "瑞丰", "星河", "华创", "东方", "长青"],
    "company_kind": ["贸易有限公司", "科技有限公司", "餐饮管理有限公司", "物流有限公司", "建材商行", "文化传媒有限公司"],
    "cities": ["北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆", "苏州", "天津", "长沙",
               "郑州", "青岛", "厦门", "合肥", "沈阳", "昆明", "宁波"],
    "city_weights": [9, 9, 7, 7, 6, 6, 5, 5, 4, 5, 4, 4, 3, 3, 3, 3, 3, 2, 2, 2],
    "teams": ["综合服务一组", "信用卡服务组", "财富管理组", "电子渠道支持组", "投诉处理组"],
}
EN_NAMES = {
    "first_f": ["Emma", "Olivia", "Amelia", "Isla", "Ava", "Grace", "Sophie", "Chloe", "Lucy", "Hannah", "Ella", "Mia",
                "Zoe", "Ruby", "Alice", "Laura", "Priya", "Mei", "Sara", "Nora"],
    "first_m": ["Oliver", "George", "Harry", "Jack", "Noah", "Leo", "Oscar", "James", "Thomas", "Samuel", "Daniel",
                "Adam", "Ethan", "Lucas", "Ryan", "Aaron", "Omar", "Ravi", "Ben", "Max"],
    "last": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Wright", "Walker",
             "Evans", "Thompson", "White", "Hughes", "Green", "Hall", "Clarke", "Lewis", "Harris", "Young", "King",
             "Baker", "Morgan", "Chen", "Khan", "Murphy", "Reid"],
    "company_word": ["Blue River", "Oakfield", "Northwind", "Silverline", "Greenway", "Harbour Light", "Redstone",
                     "Maple", "Summit", "Brightwater", "Ironbridge", "Kestrel"],
    "company_kind": ["Trading Ltd", "Logistics Ltd", "Studio", "Foods Ltd", "Builders", "Consulting", "Software Ltd",
                     "Media Group"],
    "cities": ["London", "Manchester", "Birmingham", "Edinburgh", "Bristol", "Leeds", "New York", "Chicago", "Boston",
               "San Francisco", "Seattle", "Toronto", "Vancouver", "Sydney", "Melbourne", "Singapore", "Dublin"],
    "city_weights": [10, 5, 4, 3, 3, 3, 8, 5, 3, 4, 3, 5, 3, 4, 3, 4, 3],
    "teams": ["General Service", "Cards", "Wealth & Lending", "Digital Support", "Complaints"],
}

# Which good agent reply answers which customer template (index into "good", None: any),
# per intent: (openings, follow-ups). The zh and en lists are parallel translations, so
# one map serves both; a first reply usually answers the question actually asked.
ANSWERS = {
    "account_inquiry": ((1, 4, 1, 2, 3, 0, 3, 2, 5), (2, 2, 4, 4, 2, 3)),
    "balance_inquiry": ((0, 0, 3, 4, 1, 3, 2, 1, 4), (1, 4, 2, 3, 0, 2)),
    "transfer": ((0, 1, 1, 2, 3, 5, 2, 0, 5), (4, 2, 3, 1, 5, 4)),
    "credit_card_application": ((0, 0, 1, 2, 3, 0, 4, 5, 5), (3, 0, 3, 5, 5, 2)),
    "loan_inquiry": ((0, 2, 1, 3, 2, 2, 4, 1, 1), (2, 3, 4, 1, 0, 4)),
    "wealth_management": ((0, 0, 4, 1, 2, 3, 2, 5, 2), (0, 5, 2, 5, 3, 5)),
    "insurance_inquiry": ((0, 0, 1, 2, 0, 3, 4, 0), (1, 2, 3, 4, 4, 1)),
    "technical_support": ((0, 0, 5, 2, 3, 4, 3, 3, 4), (3, 3, 0, 4, 4, 5)),
    "complaint": ((2, 2, 1, 0, 4, 3, 4, 5, 0), (1, 4, 4, 3, 4, 4)),
    "product_info": ((4, 0, 1, 2, 0, 3, 5, 1), (4, 0, 4, 0, 0, 1)),
    "fee_inquiry": ((0, 0, 2, 3, 1, 2, 4, 2), (4, 4, 0, 0, 2, 0)),
    "password_reset": ((0, 1, 4, 1, 2, 5, 2, 4), (2, 1, 3, 0, 0, 5)),
    "account_opening": ((0, 0, 1, 2, 3, 4, 0, 2), (2, 4, 0, 1, 0, 0)),
    "account_closing": ((0, 0, 0, 2, 4, 2, 2, 0), (0, 3, 4, 1, 0, 0)),
    "promotions": ((0, 0, 1, 1, 2, 3, 0, 4), (0, 4, 4, 4, 0, 1)),
    "branch_locator": ((2, 4, 2, 0, 3, 0, 2, 0), (1, 0, 1, 4, 4, 3)),
    "exchange_rate": ((0, 3, 4, 1, 2, 3, 1, 0), (0, 3, 3, 4, 1, 1)),
    "repayment_reminder": ((0, 4, 1, 0, 2, 3, 5, 2), (2, 1, 1, 5, 1, 4)),
    "risk_assessment": ((0, 2, 1, 2, 0, 0, 0, 3), (2, 0, 4, 3, 0, 2)),
    "other": ((0, 1, 4, 2, 0, 3, 4, None, 0), (1, 1, 4, 4, 2, 1)),
}

TEXTS = {
    "zh": {"slots": ZH_SLOTS, "intents": ZH_INTENTS, "ambiguous": ZH_AMBIGUOUS, "generic": ZH_GENERIC, "names": ZH_NAMES},
    "en": {"slots": EN_SLOTS, "intents": EN_INTENTS, "ambiguous": EN_AMBIGUOUS, "generic": EN_GENERIC, "names": EN_NAMES},
}


# --------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoData:
    """Items ready for the ingest services, plus the hidden agent skills (for checks)."""

    customers: list[dict]
    agents: list[dict]
    conversations: list[dict]
    agent_skill: dict[str, float] = field(default_factory=dict)


def anchor_datetime(anchor_date: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """Midnight at the start of ``anchor_date`` in ``tz``: the (exclusive) end of the demo period."""
    return dt.datetime.combine(anchor_date, dt.time.min, tzinfo=tz)


def luhn_check_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 0:  # these positions get doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    digits = "".join(ch for ch in number if ch.isdigit())
    return len(digits) > 1 and luhn_check_digit(digits[:-1]) == digits[-1]


class _Slots(dict):
    """Slot values for one conversation: drawn on first use, then reused by every turn."""

    def __init__(self, rng: random.Random, language: str, fixed: dict):
        super().__init__(fixed)
        self.rng = rng
        self.language = language
        self.pool = TEXTS[language]["slots"]

    def __missing__(self, key: str) -> str:
        value = self._draw(key)
        self[key] = value
        return value

    def _money(self, low: int, high: int, step: int) -> str:
        n = self.rng.randrange(low, high, step)
        if self.language == "en":
            return f"${n:,}"
        if n >= 10000 and n % 10000 == 0 and self.rng.random() < 0.5:
            return f"{n // 10000}万"
        return f"{n}元"

    def _draw(self, key: str) -> str:
        rng = self.rng
        if key == "district" and self.language == "zh":
            return rng.choice(ZH_DISTRICTS.get(self["city"], _ZH_GENERIC_DISTRICTS))
        if key in self.pool:
            return rng.choice(self.pool[key])
        if key == "product2":
            return rng.choice([p for p in self.pool["product"] if p != self["product"]])
        if key == "last4":
            return f"{rng.randrange(10000):04d}"
        if key == "amount":
            return self._money(*rng.choice([(100, 2000, 50), (1000, 20000, 100), (10000, 200001, 10000)]))
        if key == "amount_small":
            return self._money(*rng.choice([(50, 500, 10), (100, 1001, 100)]))
        if key == "balance":
            value = rng.randrange(100, 300000) / 100 * rng.choice([1, 1, 10, 100])
            return f"${value:,.2f}" if self.language == "en" else f"{value:,.2f}"
        if key == "fee":
            value = rng.choice([2, 3, 5, 10, 12, 15, 20, 50, 100, 200])
            return f"${value}" if self.language == "en" else str(value)
        if key == "rate":
            return f"{rng.randrange(240, 720) / 100:.2f}"
        if key == "monthly":
            value = rng.randrange(300, 12000)
            return f"${value:,}" if self.language == "en" else str(value)
        if key == "n_accounts":
            return str(rng.randint(2, 4))
        if key == "n_wrong":
            return rng.choice(["3", "5", "6", "三", "五"]) if self.language == "zh" else rng.choice(["3", "5", "6"])
        if key == "level_max":
            return str(self.pool["risk_level"].index(self["risk_level"]) + 1)
        if key == "product_level":
            return str(min(5, int(self["level_max"]) + rng.randint(1, 2)))
        if key == "used_quota":
            return f"{rng.randrange(0, 45000, 500):,}"
        if key == "ticket":
            return f"CS{rng.randrange(100000):05d}-{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{rng.randrange(100):02d}"
        if key == "queue":
            return str(rng.randint(1, 30))
        if key == "phone":
            return _phone(rng, self.language)
        if key == "cardno":
            return _card_number(rng)
        if key == "email":
            return _email(rng, self.language)
        raise KeyError(key)


def _phone(rng: random.Random, language: str) -> str:
    if language == "zh":
        return "1" + rng.choice("35789") + "".join(str(rng.randrange(10)) for _ in range(9))
    # Numbers from ranges reserved for fiction (Ofcom's 07700 900xxx, NANP 555-01xx), in international
    # form: the masker does not (yet) recognise UK national numbers such as "07700 900123".
    if rng.random() < 0.5:
        return f"+44 7700 900{rng.randrange(1000):03d}"
    return f"+1 {rng.choice(['202', '312', '415', '617'])}-555-01{rng.randrange(100):02d}"


def _card_number(rng: random.Random) -> str:
    prefix = rng.choice(["6222", "6228", "6217", "6214", "4392", "5187"])
    length = rng.choice([16, 16, 16, 19])
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    number = body + luhn_check_digit(body)
    if rng.random() < 0.4:
        return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
    return number


def _email(rng: random.Random, language: str) -> str:
    if language == "zh":
        user = rng.choice(["zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou"])
        user += rng.choice(["wei", "fang", "jing", "lei", "min", "yu", "hao", "na", ""]) + str(rng.randrange(1, 999))
    else:
        user = rng.choice(["emma", "oliver", "grace", "jack", "sophie", "harry", "mia", "leo"])
        user += rng.choice([".", "_", ""]) + rng.choice(["smith", "jones", "t", "k", "b", ""]) + str(rng.randrange(1, 99))
    return f"{user}@{rng.choice(['example.com', 'example.org', 'example.net', 'mail.example.com'])}"


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _clip(x: float, low: float, high: float) -> float:
    return max(low, min(high, x))


def _make_customers(rng: random.Random, n: int, language: str) -> list[dict]:
    names = TEXTS[language]["names"]
    customers = []
    for i in range(n):
        segment = "business" if rng.random() < BUSINESS_SHARE else "personal"
        gender = rng.choices(["F", "M", "O", ""], weights=[0.48, 0.48, 0.01, 0.03])[0]
        age = int(round(_clip(rng.gauss(41, 13), 18, 80)))
        if segment == "business":
            if language == "zh":
                name = rng.choice(names["company_city"]) + rng.choice(names["company_word"]) + rng.choice(names["company_kind"])
            else:
                name = f"{rng.choice(names['company_word'])} {rng.choice(names['company_kind'])}"
        elif language == "zh":
            name = rng.choice(names["surname"]) + "".join(rng.choice(names["given"]) for _ in range(rng.choice([1, 2, 2])))
        else:
            first = names["first_f"] if gender == "F" else names["first_m"] if gender == "M" else names["first_f"] + names["first_m"]
            name = f"{rng.choice(first)} {rng.choice(names['last'])}"
        customers.append({
            "external_id": f"DEMO-{language.upper()}-C{i + 1:05d}",
            "display_name": name,
            "age": age,
            "gender": gender,
            "city": rng.choices(names["cities"], weights=names["city_weights"])[0],
            "segment": segment,
            "vip_level": rng.choices(VIP_LEVELS, weights=VIP_WEIGHTS)[0],
        })
    return customers


def _make_agents(rng: random.Random, n: int, language: str, anchor: dt.datetime) -> tuple[list[dict], list[float], list[int]]:
    names = TEXTS[language]["names"]
    agents, skills, teams = [], [], []
    used = set()
    for i in range(n):
        team = i % len(TEAM_SHARE) if i < len(TEAM_SHARE) else rng.choices(range(len(TEAM_SHARE)), weights=TEAM_SHARE)[0]
        while True:
            if language == "zh":
                name = rng.choice(names["surname"]) + "".join(rng.choice(names["given"]) for _ in range(2))
            else:
                name = f"{rng.choice(names['first_f'] + names['first_m'])} {rng.choice(names['last'])}"
            if name not in used:
                used.add(name)
                break
        tenure_days = rng.randint(45, 12 * 365)
        # Skill grows with tenure but varies a lot between people: agent reports should differ.
        skill = _clip(rng.gauss(0, 0.45) + 0.35 * (min(tenure_days, 5 * 365) / (5 * 365) - 0.5), -1.0, 1.0)
        agents.append({
            "external_id": f"DEMO-{language.upper()}-A{i + 1:03d}",
            "name": name,
            "team": names["teams"][team],
            "hired_at": (anchor - dt.timedelta(days=tenure_days)).date(),
            "active": not (n >= 10 and rng.random() < 0.04),
        })
        skills.append(skill)
        teams.append(team)
    return agents, skills, teams


def _start_times(rng: random.Random, n: int, days: int, anchor: dt.datetime) -> list[dt.datetime]:
    first_day = anchor.date() - dt.timedelta(days=days)
    day_list = [first_day + dt.timedelta(days=d) for d in range(days)]
    day_weights = [WEEKDAY_WEIGHTS[d.weekday()] for d in day_list]
    times = []
    for _ in range(n):
        day = rng.choices(day_list, weights=day_weights)[0]
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        local = dt.datetime.combine(day, dt.time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=anchor.tzinfo)
        times.append(local.astimezone(dt.timezone.utc))
    times.sort()
    return times


def _intent_weights(customer: dict) -> dict:
    weights = dict(INTENT_WEIGHTS)
    if customer["segment"] == "business":
        for k, v in BUSINESS_BOOST.items():
            weights[k] *= v
    if customer["vip_level"] in ("gold", "diamond"):
        for k, v in VIP_BOOST.items():
            weights[k] *= v
    return weights


def _noisy(rng: random.Random, text: str, language: str) -> str:
    """Chat-style noise: dropped punctuation, doubled question marks, lower case."""
    r = rng.random()
    if language == "zh":
        if r < 0.08:
            return text.rstrip("。！？!?～")
        if r < 0.13 and text.endswith("？"):
            return text + "？"
        return text
    if r < 0.12:
        return text.lower()
    if r < 0.17:
        return text.rstrip(".!?")
    if r < 0.20 and text.endswith("?"):
        return text + "?"
    return text


def _finish_sentence(text: str, language: str) -> str:
    """End a template with the punctuation a customer would likely type."""
    if language == "zh":
        if text[-1] in "。！？!?～，":
            return text
        clause = re.split(r"[，。！？,.!?]", text)[-1]
        return text + ("？" if any(w in clause for w in _ZH_QUESTION_WORDS) else "。")
    return text if text[-1] in ".!?)" else text + ("?" if _looks_like_question(text) else ".")


_ZH_QUESTION_WORDS = ("吗", "怎么", "多少", "哪", "什么", "几点", "几类", "能不能", "是不是", "要不要", "多久", "多长")


def _looks_like_question(text: str) -> bool:
    last_sentence = re.split(r"[.?!] ", text)[-1]
    first = last_sentence.split(" ", 1)[0].lower().strip(",")
    return first in {"how", "what", "why", "when", "where", "which", "can", "could", "is", "are", "do", "does", "will",
                     "should", "has", "have", "who"}


def _concat_en(parts: list[str]) -> str:
    """Join sentence pieces, fixing the case of a piece that continues a sentence."""
    text = ""
    for part in parts:
        if not part:
            continue
        if text.endswith(", ") and not (part.startswith("I ") or part.startswith("I'")):
            part = part[0].lower() + part[1:]
        elif not text or text.endswith((". ", "? ", "! ", ": ")):
            part = part[0].upper() + part[1:]
        text += part
    return text.strip()


def _opening(rng, language, intent, sentiment, slots, ambiguous_group) -> tuple[str, int | None]:
    """The customer's first message and the index of the good reply that answers it."""
    texts = TEXTS[language]
    gen = texts["generic"]
    if ambiguous_group is not None:
        core, hint = rng.choice(texts["ambiguous"][ambiguous_group]), None
    else:
        i = rng.randrange(len(texts["intents"][intent]["open"]))
        core, hint = texts["intents"][intent]["open"][i], ANSWERS[intent][0][i]
    core = _finish_sentence(core.format_map(slots), language)
    prefix = rng.choice(gen["neg_prefix"]) if sentiment == "negative" and rng.random() < 0.35 else ""
    parts = [rng.choice(gen["greeting"]), prefix, rng.choice(gen["polite"]), core, rng.choice(gen["tail"][sentiment])]
    if language == "zh":
        return "".join(parts).strip(), hint
    return _concat_en(parts), hint


def _customer_turn(rng, language, intent, sentiment, slots, used, last, ambiguous) -> tuple[str, int | None]:
    gen = TEXTS[language]["generic"]
    if last and rng.random() < 0.55:
        return rng.choice(gen["close"][sentiment]), None
    follow = TEXTS[language]["intents"][intent]["follow"]
    unused = [i for i in range(len(follow)) if i not in used]
    if unused and rng.random() < (0.25 if ambiguous else 0.6):
        i = rng.choice(unused)
        used.add(i)
        return _finish_sentence(follow[i].format_map(slots), language), ANSWERS[intent][1][i]
    generic = [t for t in gen["follow"][sentiment] if t not in used] or gen["follow"][sentiment]
    text = rng.choice(generic)
    used.add(text)
    return _finish_sentence(text.format_map(slots), language), None


def _agent_turn(rng, language, intent, sentiment, slots, used, *, hint, first, last, good) -> str:
    gen = TEXTS[language]["generic"]
    if last and not first and hint is None and rng.random() < 0.6:
        return rng.choice(gen["agent_close"] if good else gen["agent_curt_close"]).format_map(slots)
    pool = TEXTS[language]["intents"][intent]["good" if good else "curt"]
    kind = "good" if good else "curt"
    if good and hint is not None and (kind, hint) not in used and rng.random() < 0.85:
        i = hint
    else:
        unused = [i for i in range(len(pool)) if (kind, i) not in used] or list(range(len(pool)))
        i = rng.choice(unused)
    used.add((kind, i))
    text = pool[i].format_map(slots)
    if good and first:
        opener = rng.choice(gen["agent_open"]).format_map(slots)
        apology = rng.choice(gen["agent_apology"]) if sentiment == "negative" and rng.random() < 0.8 else ""
        text = opener + apology + text
    elif good and last and rng.random() < 0.5:
        text = text + (" " if language == "en" else "") + rng.choice(gen["agent_close"])
    return text


def _with_pii(rng, language, text, slots):
    gen = TEXTS[language]["generic"]
    snippet = rng.choice(gen["pii"]).format_map(slots)
    if language == "zh":
        text = text.rstrip("。")
        return text + ("" if text.endswith(("？", "！", "?", "!", "～")) else rng.choice(gen["pii_join"])) + snippet
    text = text.rstrip(".")
    join = " " if text.endswith(("?", "!", ")")) else rng.choice(gen["pii_join"])
    if join != ", ":
        snippet = snippet[0].upper() + snippet[1:]
    return text + join + snippet


def _messages(rng, *, language, intent, sentiment, quality, skill, channel, started_at, slots, ambiguous_group,
              n_messages, pii):
    gen = TEXTS[language]["generic"]
    messages = []
    t = 0.0
    # Good replies for high quality, curt ones for low quality, a mix in between (per agent turn).
    p_good = _clip((quality - 1.6) / 2.2, 0.02, 0.98)
    if ambiguous_group is None and rng.random() < 0.1 and n_messages < 8:
        messages.append({"speaker": "system", "text": rng.choice(gen["system"]).format_map(slots), "offset": 0.0})
    pii_turn = rng.randrange((n_messages + 1) // 2) if pii else -1
    if pii and pii_turn == 0 and n_messages >= 3 and rng.random() < 0.6:
        pii_turn = 1  # usually given when the agent asks to verify
    used_c, used_a = set(), set()
    n_customer = 0
    phone = channel == "phone"
    for k in range(n_messages):
        last = k == n_messages - 1
        if k % 2 == 0:
            if k == 0:
                text, hint = _opening(rng, language, intent, sentiment, slots, ambiguous_group)
            else:
                t += rng.triangular(4, 90, 12) if phone else rng.triangular(8, 240, 35)
                text, hint = _customer_turn(rng, language, intent, sentiment, slots, used_c, last,
                                            ambiguous_group is not None)
            if n_customer == pii_turn:
                text = _with_pii(rng, language, text, slots)
            n_customer += 1
            speaker = "customer"
        else:
            if k == 1:
                mode = _clip(30 - 22 * skill + (15 if channel == "email" else 0), 6, 110)
                t += rng.triangular(5, 120, mode)
            else:
                t += rng.triangular(3, 60, 10) if phone else rng.triangular(5, 180, 30 - 15 * skill)
            good = rng.random() < p_good
            text = _agent_turn(rng, language, intent, sentiment, slots, used_a, hint=hint, first=k == 1, last=last,
                               good=good)
            speaker = "agent"
        messages.append({"speaker": speaker, "text": _noisy(rng, text, language) if speaker == "customer" else text,
                         "offset": t})
    # Keep the whole contact within the resolution-time range: squeeze the later gaps if needed.
    tail = rng.uniform(5, 90)
    total = messages[-1]["offset"] + tail
    if total > MAX_RESOLUTION_S and len(messages) > 2:
        first_agent = next((m["offset"] for m in messages if m["speaker"] == "agent"), 0.0)
        budget = MAX_RESOLUTION_S - tail - first_agent
        span = messages[-1]["offset"] - first_agent
        scale = budget / span if span > 0 else 1.0
        for m in messages:
            if m["offset"] > first_agent:
                m["offset"] = first_agent + (m["offset"] - first_agent) * scale
        total = messages[-1]["offset"] + tail
    duration = _clip(total, MIN_RESOLUTION_S, MAX_RESOLUTION_S)
    out = []
    for seq, m in enumerate(messages):
        sent_at = started_at + dt.timedelta(seconds=round(m["offset"]))
        out.append({"seq": seq, "speaker": m["speaker"], "text": m["text"], "sent_at": sent_at})
    return out, started_at + dt.timedelta(seconds=round(duration))


def generate_demo(
    *,
    anchor: dt.datetime,
    n_conversations: int = 3000,
    n_agents: int = 50,
    n_customers: int = 800,
    language: str = "zh",
    seed: int = 0,
    days: int = 30,
) -> DemoData:
    """Generate a deterministic demo contact centre.

    ``anchor`` is an aware datetime (midnight of the anchor date); conversations start in
    the ``days`` days before it. Same arguments, same data.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    if anchor.tzinfo is None:
        raise ValueError("anchor must be an aware datetime")
    if days < 1 or n_conversations < 0 or n_agents < 1 or n_customers < 1:
        raise ValueError("days, agents and customers must be >= 1 and conversations >= 0")
    rng = random.Random(seed)
    lang_tag = language.upper()
    label_names = dict(zip(INTENTS_EN, INTENTS_ZH)) if language == "zh" else {k: k for k in INTENTS_EN}

    customers = _make_customers(rng, n_customers, language)
    agents, skills, teams = _make_agents(rng, n_agents, language, anchor)
    # Some customers call far more often than others.
    customer_weights = [rng.lognormvariate(0, 0.8) for _ in customers]
    agent_load = [rng.uniform(0.6, 1.4) if a["active"] else 0.0 for a in agents]
    if not any(agent_load):
        agent_load = [1.0] * len(agents)
    team_members = {}
    for i, team in enumerate(teams):
        if agent_load[i]:
            team_members.setdefault(team, []).append(i)
    team_of_intent = {intent: t for t, intents in enumerate(TEAM_INTENTS) for intent in intents}
    start_times = _start_times(rng, n_conversations, days, anchor)
    channels = CHANNEL_WEIGHTS[language]

    conversations = []
    for n, started_at in enumerate(start_times):
        customer = rng.choices(customers, weights=customer_weights)[0]
        intent = _weighted(rng, _intent_weights(customer))
        ambiguous_group = None
        if intent in RELATED and rng.random() < AMBIGUOUS_SHARE:
            ambiguous_group = rng.choice(RELATED[intent])
        label = intent
        if intent in RELATED and rng.random() < LABEL_NOISE_SHARE:  # a wrong CRM label, as in real data
            label = rng.choice([i for g in RELATED[intent] for i in AMBIGUOUS_GROUPS[g] if i != intent])
        sentiment = rng.choices(SENTIMENTS, weights=SENTIMENT_BY_INTENT[intent])[0]

        team = team_of_intent.get(intent, 0)
        members = team_members.get(team) if rng.random() < TEAM_ROUTING_P else None
        pool = members or [i for i, w in enumerate(agent_load) if w]
        a = rng.choices(pool, weights=[agent_load[i] for i in pool])[0]
        skill = skills[a]

        resolved = rng.random() < _clip(RESOLVED_P[sentiment] + 0.12 * skill, 0.05, 0.99)
        low, high = QUALITY_RANGE[sentiment]
        quality = rng.uniform(low, high) + 0.45 * skill + (0.15 if resolved else -0.5)
        quality = round(_clip(quality, 1.0, 5.0), 1)
        csat = None
        if rng.random() < CSAT_SHARE:
            csat = int(_clip(round(quality + rng.gauss(0, 0.6)), 1, 5))

        channel = _weighted(rng, channels)
        n_messages = rng.choices(list(N_MESSAGES_WEIGHTS), weights=list(N_MESSAGES_WEIGHTS.values()))[0]
        if (sentiment == "negative" or not resolved) and n_messages < 7 and rng.random() < 0.4:
            n_messages += 2
        slots = _Slots(rng, language, {
            "agent_no": agents[a]["external_id"][-3:], "city": customer["city"],
        })
        messages, ended_at = _messages(
            rng, language=language, intent=intent, sentiment=sentiment, quality=quality, skill=skill,
            channel=channel, started_at=started_at, slots=slots, ambiguous_group=ambiguous_group,
            n_messages=n_messages, pii=rng.random() < PII_SHARE,
        )
        conversations.append({
            "external_id": f"DEMO-{lang_tag}-V{n + 1:06d}",
            "customer": customer["external_id"],
            "agent": agents[a]["external_id"],
            "channel": channel,
            "language": language,
            "started_at": started_at,
            "ended_at": ended_at,
            "resolved": resolved,
            "csat": csat,
            "label_intent": label_names[label],
            "label_sentiment": sentiment,
            "label_quality": quality,
            "messages": messages,
        })
    skill_by_agent = {agent["external_id"]: skill for agent, skill in zip(agents, skills)}
    return DemoData(customers=customers, agents=agents, conversations=conversations, agent_skill=skill_by_agent)
