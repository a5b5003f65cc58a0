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
    r"\b(never|do not|don'?t|won'?t|will not|should ?n[o']t|no one|nobody|not)\b.{0,40}"
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
                                     r"工号\s*\w+|\bmy name is\b|\bthis is \w+|\bI'?m \w+ (from|with|at|on)\b|\bspeaking\b"},
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
                              "pattern": r"余额|可用额度|剩余额度|账单金额|本期账单|欠款|待还|最近一笔|交易记录|流水|"
                                         r"账户(里|中|上)?(有|是|为|显示)|"
                                         r"\bbalance\b|available credit|credit limit is|statement (balance|amount)|"
                                         r"last (transaction|payment)|your account (shows|has|is showing)|you owe|outstanding amount",
                              "exclude": r"请问|能否|是否|\?|？"},
                        "2": {"operator": "regex", "speaker": "agent", "anchor": {"condition": "1", "where": "before"},
                              "pattern": r"(验证|核实|核对|确认).{0,8}(身份|信息|通过|成功|无误)|身份.{0,4}(验证|核实|核对)|"
                                         r"(提供|报一下|说一下|告诉我).{0,10}(姓名|身份证|证件号|预留手机|手机号|出生日期|后四位)|"
                                         r"\bverif(y|ied|ication)\b|confirm (your|the) (identity|date of birth|full name|name|address|postcode)|"
                                         r"security questions?|last four digits"},
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
                                         r"\b(tell|give|read|send|provide|share|confirm|need)( me| us)?( with)? (your|the)( online| card)? "
                                         r"(password|pin|cvv|cvc|cv2|security code|verification code|one[- ]time (code|passcode|password)|otp|sms code)|"
                                         r"what('?s| is) (your|the) (password|pin|cvv|cvc|security code|verification code|otp)|"
                                         r"(three|3)[- ]digit (code|number) on the back"},
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
                                         r"稳赚不赔|包赚|只赚不赔|零风险|无风险.{0,6}(收益|理财|投资|回报)|"
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
                "question_zh": "坐席是否确认了客户的需求并给出了答复或处理？",
                "question_en": "Did the agent confirm the customer's need and give an answer or take action?",
                "points": 20,
                "rule": {
                    "expression": "1 && 2",
                    "conditions": {
                        "1": {"operator": "regex", "speaker": "agent",
                              "pattern": r"您是想|您是要|您的意思是|请问您是|您需要|您想|了解您的|明白您的|确认一下您|您要办理|您遇到的|"
                                         r"do you (want|mean|need)|you'?d like to|you want to|if I understand|so you('re| are)|"
                                         r"let me (check|look|see|confirm)|I understand (you|that)|you('re| are) (asking|calling) about"},
                        "2": {"operator": "regex", "speaker": "agent",
                              "pattern": r"(已经|已)(为您|帮您|给您)|为您(查询|办理|处理|提交|查到|核实|申请|开通|调整)|"
                                         r"(可以|您可以|建议您)(通过|在|到|拨打|登录|前往|使用)|步骤|操作如下|方法是|流程是|"
                                         r"(I'?ve|I have) (processed|submitted|updated|checked|reset|sent|raised|arranged|unlocked)|"
                                         r"\byou can\b|here('s| is) how|I('ll| will) (send|process|submit|escalate|arrange)|"
                                         r"the (fee|rate|limit|charge) (is|was)"},
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
                              "words": ["抱歉", "不好意思", "对不起", "理解您", "非常理解", "能理解", "给您带来不便", "给您添麻烦",
                                        "让您久等", "请您放心", "您别着急", "sorry", "apologi", "i understand", "understand your",
                                        "i can see why", "inconvenience", "i hear you", "that must be"]},
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
                         "conditions": {"1": {"operator": "repetition", "speaker": "agent", "min_count": 3, "min_length": 6}}},
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
