"""The default bank scorecard (Chinese and English) and its seeding service.

Its rules look for what agents actually say in both languages: a greeting with a
self-introduction; identity verified *before* account details are disclosed (an anchored
rule); the need understood and an answer given; empathy when the customer is negative;
compliance (never asking for a full card number, a password, a CVV or a one-time code, never
promising guaranteed returns: both auto-fail); a closing question; and a reviewer-only
1-5 criterion for tone.
"""
from __future__ import annotations

from django.db import transaction

from .models import SamplingRule, Scorecard, ScorecardVersion
from .services import scorecard_activate, scorecard_create, scorecard_version_publish

DEFAULT_NAME = "Bank contact centre (default)"

# A sentence that states the rule ("we never ask for your password", "returns are not
# guaranteed") is not a violation: these exclusions drop it.
_NOT_ASKING = (
    r"(不会|不要|切勿|请勿|千万(别|不要)|绝不|不得|从不|不向|不能|不可以|别).{0,12}(卡号|密码|验证码|动态码|校验码|CVV|cvv|安全码)|"
    r"\b(never|do not|\w+n'?t|will not|no one|nobody|not)\b.{0,40}"
    r"\b(password|pin|cvv|cvc|code|card number|otp|passcode)"
)
_NOT_PROMISING = (
    r"(不|无法|不能|并不|没有|不会|不敢).{0,3}(保证|保本|承诺)|有风险|风险自担|投资需谨慎|"
    r"\b(no|not|cannot|can'?t|never|don'?t|won'?t|isn'?t|aren'?t)\b.{0,12}\bguarantee|"
    r"\binvolves? risks?|\bnot (risk[- ]free|without risk)"
)

SECTIONS = [
    {
        "title_zh": "开场", "title_en": "Opening",
        "criteria": [{
            "key": "greeting",
            "question_zh": "坐席是否在开场问候客户并自我介绍？",
            "question_en": "Did the agent greet the customer and introduce themselves at the start?",
            "points": 10,
            "rule": {
                "expression": "1 && 2",
                "conditions": {
                    "1": {"operator": "regex", "speaker": "agent", "first": 3,
                          "pattern": r"您好|你好|早上好|上午好|下午好|晚上好|欢迎致电|感谢(您的)?(来电|致电|咨询)|"
                                     r"\b(hello|hi|hey|good (morning|afternoon|evening))\b|thank(s| you) for (calling|contacting|reaching)"},
                    "2": {"operator": "regex", "speaker": "agent", "first": 3,
                          "pattern": r"我是.{0,12}(客服|专员|顾问|经理)|(客服|专员|顾问)\S{0,4}(号|编号)?\s*\S{0,6}(为您服务|很高兴)|"
                                     r"工号\s*\w+|\bmy name is\b|\bthis is \w+|\bI'?m \w+ (from|with|at|on)\b|\bspeaking( with)?\b|"
                                     r"\b(from|with|in) (the )?(customer service|customer support|support|\w+ team)\b|\bagent (no\.? ?|number )?\d+"},
                },
            },
        }],
    },
    {
        "title_zh": "身份核验与合规", "title_en": "Verification and compliance",
        "criteria": [
            {
                "key": "identity_before_details",
                "question_zh": "坐席是否在透露账户信息之前核验了客户身份？",
                "question_en": "Did the agent verify the customer's identity before disclosing account details?",
                "points": 20,
                "rule": {
                    "expression": "!1 || 2",
                    "conditions": {
                        "1": {"operator": "regex", "speaker": "agent",
                              "pattern": r"尾号\s?\d{3,4}的?(卡|账户|信用卡)|(可用)?余额(为|是|还有|：|:)\s?[\d,]|可用额度(为|是|还有)|"
                                         r"账单金额(为|是)|应还(款)?金额|欠款(为|是|共)|名下(共)?有.{0,3}个|(有|那)笔.{0,12}(转出|转入|转账|扣款|消费)|"
                                         r"\b(ending|ending in) \d{3,4}\b|\bbalance (of|is) \D{0,2}\d|available (balance|credit) (of|is) \D{0,2}\d|"
                                         r"statement balance (is|of)|amount due|accounts? in your name|you owe \D{0,2}\d|outstanding (amount|balance) (is|of)",
                              "exclude": r"请问|能否|是否|\?|？"},
                        "2": {"operator": "regex", "speaker": "agent", "anchor": {"condition": "1", "where": "before"},
                              "pattern": r"(验证|核实|核对|确认).{0,8}(身份|信息|通过|成功|无误)|身份.{0,4}(验证|核实|核对)|"
                                         r"(verify|confirm|check) (your|the) (identity|date of birth|full name|name|address|postcode)|"
                                         r"\bverified\b|passed security|security questions?|matches our records"},
                    },
                },
            },
            {
                "key": "no_sensitive_data_request",
                "question_zh": "坐席是否没有索要完整卡号、密码、CVV 或验证码？",
                "question_en": "Did the agent avoid asking for a full card number, a password, a CVV or a verification code?",
                "points": 0, "auto_fail": True,
                "rule": {
                    "expression": "1",
                    "answer_when_true": "no",
                    "conditions": {
                        "1": {"operator": "regex", "speaker": "agent", "exclude": _NOT_ASKING,
                              "pattern": r"(完整|全部|整个|全)的?(银行)?卡号|卡号.{0,6}(全部|完整|每一位)|"
                                         r"(告诉|提供|报|说|发|输入|念).{0,8}(密码|验证码|动态码|校验码|短信码|CVV|cvv|安全码|卡背.{0,4}(三|3)位)|"
                                         r"(密码|验证码|动态码|CVV|cvv|安全码)(是多少|多少|告诉我|报一下|说一下|发给我|提供一下)|"
                                         r"\b(full|whole|entire|complete|long) (card|account) number|"
                                         r"\b(tell|give|read|provide|share|send)( me| us)? (your|the)( [\w-]+){0,3} "
                                         r"(password|pin|cvv|cvc|cv2|security code|verification code|one[- ]time (code|passcode|password)|otp|sms code|code)\b"
                                         r"(?! (will|to|is sent|we send|by text))|"
                                         r"what('?s| is) (your|the) (password|pin|cvv|cvc|security code|verification code|otp)|"
                                         r"\bcode (we|I) (just )?(texted|sent)|"
                                         r"(three|3)[- ]digit (security )?(code|number)"},
                    },
                },
            },
            {
                "key": "no_guaranteed_returns",
                "question_zh": "坐席是否没有承诺保本或保证收益？",
                "question_en": "Did the agent avoid promising guaranteed returns?",
                "points": 0, "auto_fail": True,
                "rule": {
                    "expression": "1",
                    "answer_when_true": "no",
                    "conditions": {
                        "1": {"operator": "regex", "speaker": "agent", "exclude": _NOT_PROMISING,
                              "pattern": r"(保证|保本|稳赚|肯定|一定|绝对|百分之百|100%).{0,6}(收益|赚钱|回报|盈利|不亏|赚|保本|翻倍)|"
                                         r"稳赚不赔|包赚|只赚不赔|零风险|无风险.{0,6}(收益|理财|投资|回报)|(绝对|肯定|一定)不会亏|(收益|回报|年化).{0,12}是保证的|"
                                         r"\bguarantee(d|s)?\b.{0,20}\b(returns?|profits?|income|gains?|yield|interest|make money|earn)|"
                                         r"\b(risk[- ]free|zero[- ]risk|no risk)\b|can'?t lose|definitely (make|earn|profit)|"
                                         r"100% (safe|return|guaranteed)"},
                    },
                },
            },
        ],
    },
    {
        "title_zh": "需求处理", "title_en": "Handling the request",
        "criteria": [
            {
                "key": "need_understood",
                "question_zh": "坐席是否确认了客户的需求，并且没有推诿？",
                "question_en": "Did the agent confirm the customer's need, without deflecting it?",
                "points": 20,
                "rule": {
                    "expression": "1 && !2",
                    "conditions": {
                        "1": {"operator": "regex", "speaker": "agent",
                              "pattern": r"您是想|您是要|您的意思是|请问您是|您想要|我确认一下|确认一下您|明白.{0,3}您|了解您的|您要办理|"
                                         r"do you (want|mean|need)|you'?d like to|you want to|just to confirm|if I understand|"
                                         r"so you('re| are)|you('re| are) (asking|calling|looking) (about|for|to)|I understand (you|that)"},
                        "2": {"operator": "regex", "speaker": "agent",
                              "pattern": r"不清楚|不知道|不归我们管|找别的部门|自己去.{0,6}(问|查|办)|过几天再说|管不了|没办法|"
                                         r"\bno idea\b|not our (department|problem)|(can'?t|cannot) help (you )?with that|"
                                         r"try again (in|later)|ask (at )?(a|the) branch|nothing I can do|not my (job|problem)"},
                    },
                },
            },
            {
                "key": "empathy",
                "question_zh": "客户情绪负面时，坐席是否表达了理解或歉意？",
                "question_en": "When the customer was upset, did the agent show empathy or apologise?",
                "points": 15,
                "rule": {
                    "expression": "2",
                    "applies": "1",
                    "conditions": {
                        "1": {"operator": "sentiment", "polarity": "negative", "speaker": "customer"},
                        "2": {"operator": "keywords", "speaker": "agent", "anchor": {"condition": "1", "where": "after"},
                              "words": ["抱歉", "不好意思", "对不起", "理解您", "非常理解", "我理解", "能理解", "给您带来不便", "给您添麻烦",
                                        "让您久等", "请您放心", "别着急", "sorry", "apologi", "i understand", "understand how",
                                        "understand your", "i can see why", "inconvenience", "i hear you", "that must be"]},
                    },
                },
            },
            {
                "key": "responsive",
                "question_zh": "坐席是否及时回复（无超过 120 秒的等待）？",
                "question_en": "Did the agent reply promptly (no wait over 120 seconds)?",
                "points": 5,
                "rule": {"expression": "1", "answer_when_true": "no",
                         "conditions": {"1": {"operator": "response_time", "seconds": 120}}},
            },
            {
                "key": "no_scripted_repetition",
                "question_zh": "坐席是否避免了机械重复同一句话？",
                "question_en": "Did the agent avoid repeating the same sentence mechanically?",
                "points": 5,
                "rule": {"expression": "1", "answer_when_true": "no",
                         "conditions": {"1": {"operator": "repetition", "speaker": "agent", "min_count": 2, "min_length": 6}}},
            },
            {
                "key": "tone",
                "question_zh": "坐席的语气是否专业、礼貌？（1-5，由质检员评分）",
                "question_en": "Was the agent's tone professional and courteous? (1-5, graded by a reviewer)",
                "scale": "one_to_five", "points": 10, "answered_by": "reviewer",
            },
        ],
    },
    {
        "title_zh": "结束语", "title_en": "Closing",
        "criteria": [{
            "key": "closing",
            "question_zh": "坐席是否在结束前询问客户是否还有其他需要？",
            "question_en": "Did the agent ask whether the customer needed anything else before closing?",
            "points": 10,
            "rule": {
                "expression": "1",
                "conditions": {
                    "1": {"operator": "regex", "speaker": "agent", "last": 3,
                          "pattern": r"还有(什么|其他|别的|其它).{0,8}(帮|需要|问题|疑问|可以|业务)|(其他|别的|其它)(问题|需要|疑问|业务)吗|"
                                     r"还需要.{0,6}(帮助|办理|咨询)吗|anything else|something else (I|we) can|"
                                     r"any other (questions?|concerns?|queries)|is there more I can|else I can help"},
                },
            },
        }],
    },
]

DEFAULT_SAMPLING = [
    {"name": "Every auto-fail / 所有一票否决", "kind": SamplingRule.Kind.AUTO_FAIL},
    {"name": "Score below threshold / 低于及格分", "kind": SamplingRule.Kind.SCORE_BELOW},
    {"name": "5 random per agent per week / 每人每周随机 5 通", "kind": SamplingRule.Kind.RANDOM_PER_AGENT,
     "count": 5, "period_days": 7},
]


@transaction.atomic
def seed_default_scorecard(*, actor=None, activate: bool = True) -> ScorecardVersion:
    """Create, publish and (by default) activate the default bank scorecard; idempotent.

    A second call returns the published version it finds; a scorecard of that name without a
    published version gets its draft published. The default sampling rules are created once.
    """
    scorecard = Scorecard.objects.filter(name=DEFAULT_NAME).first()
    if scorecard is None:
        scorecard = scorecard_create(
            name=DEFAULT_NAME, sections=SECTIONS, pass_threshold=70.0, created_by=actor,
            description="Greeting, verification, compliance, handling and closing, zh/en. "
                        "问候、身份核验、合规、需求处理与结束语（中英文）。",
        )
    version = scorecard.versions.filter(status=ScorecardVersion.Status.PUBLISHED).first()
    if version is None:
        draft = scorecard.versions.filter(status=ScorecardVersion.Status.DRAFT).order_by("-number").first()
        version = scorecard_version_publish(version=draft, actor=actor, activate=activate)
    elif activate and not scorecard.is_active and not Scorecard.objects.filter(is_active=True).exists():
        scorecard_activate(scorecard=scorecard, actor=actor)
    for rule in DEFAULT_SAMPLING:
        SamplingRule.objects.get_or_create(name=rule["name"], defaults={k: v for k, v in rule.items() if k != "name"})
    return version
