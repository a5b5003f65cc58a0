"""Seed the suggestion rules: the original system's (by intent, sentiment, quality) and the 20 demo intents.

Re-runnable: a rule is created only when no rule with the same conditions and Chinese text
exists, so rules edited or deactivated by managers are left alone. Reversing deletes only
unedited seeded rules.
"""
from django.db import migrations

# Priorities: lower first, at most five suggestions are shown.
#   10 quality below 3 -> human; 20 apology; 25 escalate; 30-32 intent-specific; 41 compensate;
#   50-52 positive sentiment; 90 quality 4+ -> automatic; 95 generic closing.
GENERAL = [
    # (intent, sentiment, min_quality, max_quality, priority, text_zh, text_en)
    ("", "", None, 3.0, 10, "质量评分低于3分：需要人工处理，建议主管复核",
     "Quality below 3: needs a human agent; have a supervisor review it"),
    ("", "negative", None, None, 20, "先真诚致歉，安抚客户情绪",
     "Apologise sincerely and acknowledge the customer's frustration"),
    ("", "negative", None, None, 25, "必要时升级至主管或专属服务经理处理",
     "Escalate to a supervisor or a dedicated service manager if needed"),
    ("", "negative", None, None, 41, "视情况提供补偿方案（如费用减免、积分补偿）",
     "Offer compensation where appropriate (fee waiver, reward points)"),
    ("", "positive", None, None, 50, "感谢客户的认可与支持",
     "Thank the customer for their kind words"),
    ("", "positive", None, None, 51, "适时推荐相关产品或服务",
     "Recommend related products or services"),
    ("", "positive", None, None, 52, "邀请客户进行满意度评价",
     "Ask the customer for satisfaction feedback"),
    ("", "", 4.0, None, 90, "质量评分4分以上：可由智能客服自动处理",
     "Quality 4 or above: can be handled automatically"),
    ("", "", None, None, 95, "确认问题已解决，并询问是否还有其他需要",
     "Confirm the issue is resolved and ask whether there is anything else"),
]

BY_INTENT = {
    "账户查询": [
        ("核实客户身份（姓名、证件号后四位、预留手机号）", "Confirm the customer's identity (name, last digits of ID, registered phone)"),
        ("提供账户详情（户名、账号、开户网点）", "Provide the account details (holder, number, opening branch)"),
        ("告知账户当前状态（正常、冻结、挂失等）", "Show the account status (active, frozen, reported lost)"),
    ],
    "余额查询": [
        ("告知账户余额，或引导在手机银行首页查看", "Show the balance, or point to the mobile app's home screen"),
        ("提供近期交易明细的查询方式", "Offer the recent transaction history"),
        ("根据闲置资金推荐合适的理财产品", "Recommend suitable wealth-management products for idle funds"),
    ],
    "转账汇款": [
        ("核对收款人姓名、账号与开户行", "Verify the payee's name, account number and bank"),
        ("确认转账金额与预计到账时间", "Confirm the amount and the expected arrival time"),
        ("说明转账手续费标准", "Explain the transfer fees"),
    ],
    "信用卡申请": [
        ("说明申请条件与所需材料", "Explain the eligibility criteria and documents required"),
        ("引导通过手机银行在线申请，并告知审批进度查询方式", "Guide the customer through the online application and how to track approval"),
        ("介绍卡片权益与年费政策", "Present the card benefits and annual-fee policy"),
    ],
    "贷款咨询": [
        ("了解贷款用途、金额与期限", "Ask about the purpose, amount and term of the loan"),
        ("说明利率、还款方式及所需材料", "Explain the interest rate, repayment options and documents required"),
        ("提示按时还款及逾期对征信的影响", "Point out the credit-record impact of late repayment"),
    ],
    "投资理财": [
        ("先确认客户的风险承受能力评估结果", "Check the customer's risk-tolerance assessment first"),
        ("推荐与风险等级匹配的理财产品", "Recommend products that match the customer's risk level"),
        ("提示理财非存款、产品有风险、投资需谨慎", "Remind the customer that investments are not deposits and carry risk"),
    ],
    "保险咨询": [
        ("了解客户的保障需求，介绍相应险种", "Ask about the customer's coverage needs and present suitable policies"),
        ("说明保障范围、免责条款与犹豫期", "Explain the coverage, exclusions and cooling-off period"),
    ],
    "技术支持": [
        ("提供分步操作指引", "Give step-by-step instructions"),
        ("无法远程解决时，转派技术专员跟进", "Assign a technical specialist if it cannot be solved remotely"),
        ("发送操作指南或帮助中心链接", "Send the user guide or help-centre link"),
    ],
    "投诉建议": [
        ("详细记录投诉内容并生成工单", "Record the complaint in detail and open a ticket"),
        ("指派服务经理跟进处理", "Assign a service manager to follow up"),
        ("提出解决方案并约定回复时限", "Offer a solution and agree a reply deadline"),
    ],
    "产品介绍": [
        ("介绍产品特点、收益与费用", "Present the product's features, returns and fees"),
        ("根据客户需求推荐合适的产品", "Recommend products that fit the customer's needs"),
    ],
    "费用查询": [
        ("说明各项费用的收费标准", "Explain the applicable fees"),
        ("告知可减免费用的条件", "Explain how fees can be waived"),
    ],
    "密码重置": [
        ("核实身份后，引导通过手机银行或网点重置密码", "After verifying identity, guide the reset via the mobile app or a branch"),
        ("提醒客户不要向任何人透露密码和验证码", "Remind the customer never to share passwords or verification codes"),
    ],
    "开户申请": [
        ("说明开户所需证件与材料", "List the ID and documents needed to open an account"),
        ("引导线上开户或预约网点办理", "Guide online account opening or book a branch appointment"),
    ],
    "销户申请": [
        ("了解销户原因，尝试挽留", "Ask why the customer wants to close the account and try to retain them"),
        ("说明销户前需结清余额并解除关联业务", "Explain that the balance must be settled and linked services removed first"),
    ],
    "优惠活动": [
        ("介绍当前优惠活动内容与参与条件", "Present the current promotions and how to qualify"),
        ("告知活动期限与领取方式", "Explain the promotion period and how to claim it"),
    ],
    "网点查询": [
        ("告知最近网点的地址与营业时间", "Give the nearest branch's address and opening hours"),
        ("提醒可通过手机银行预约取号", "Mention that a queue number can be booked in the mobile app"),
    ],
    "汇率查询": [
        ("提供实时汇率，并说明以成交时汇率为准", "Give the current rate and note that the rate at execution applies"),
        ("介绍购汇、结汇渠道与年度额度", "Explain the currency-exchange channels and annual quota"),
    ],
    "还款提醒": [
        ("告知本期应还金额与到期还款日", "Tell the customer the amount due and the due date"),
        ("介绍自动还款的设置方法", "Explain how to set up automatic repayment"),
    ],
    "风险评估": [
        ("引导完成风险承受能力评估问卷", "Guide the customer through the risk-tolerance questionnaire"),
        ("说明评估结果的有效期与适用产品", "Explain how long the result is valid and which products it allows"),
    ],
    "其他咨询": [
        ("耐心了解客户的具体需求", "Ask patiently what exactly the customer needs"),
        ("如需其他部门协助，及时转接", "Transfer to the right department when needed"),
    ],
}


def seed_rules():
    rules = list(GENERAL)
    for intent, texts in BY_INTENT.items():
        for offset, (text_zh, text_en) in enumerate(texts):
            rules.append((intent, "", None, None, 30 + offset, text_zh, text_en))
    return rules


def seed(apps, schema_editor):
    SuggestionRule = apps.get_model("scoring", "SuggestionRule")
    existing = set(SuggestionRule.objects.values_list("intent", "sentiment", "min_quality", "max_quality", "text_zh"))
    SuggestionRule.objects.bulk_create([
        SuggestionRule(intent=intent, sentiment=sentiment, min_quality=low, max_quality=high, priority=priority,
                       text_zh=text_zh, text_en=text_en, active=True)
        for intent, sentiment, low, high, priority, text_zh, text_en in seed_rules()
        if (intent, sentiment, low, high, text_zh) not in existing
    ])


def unseed(apps, schema_editor):
    SuggestionRule = apps.get_model("scoring", "SuggestionRule")
    for intent, sentiment, low, high, priority, text_zh, text_en in seed_rules():
        SuggestionRule.objects.filter(
            intent=intent, sentiment=sentiment, min_quality=low, max_quality=high, priority=priority,
            text_zh=text_zh, text_en=text_en,
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("scoring", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
