"""call01-call07 as data (each call's lines, holds, pauses and expected findings), and the
standard's dialogue points their scripts miss (STANDARD_POINTS, issue 17)."""

from __future__ import annotations

from analyzers.model import AGENT, CUSTOMER

from .script import (
    ANYTHING_ELSE,
    GREETING,
    SATISFACTION,
    A,
    C,
    Call,
    F,
    Hold,
    Pause,
    agent_utts,
    closing,
    find_utt,
    whole_agent_span,
)

# call01 -----------------------------------------------------------------------


def findings_01(t):
    (h,) = t["holds"]
    return [F("hold", "info", h.start_s, h.end_s, detail="hold with notice and apology", rule_id="hold")]


CALL01 = Call(
    "call01_compliant",
    "Fully compliant call: greeting, polite traps (麻烦您/有什么可以帮到您), an 8 s hold "
    "with notice and apology, a 4 s non-hold pause, satisfaction check and goodbye.",
    "pcm",
    "stereo",
    [
        A(GREETING, gap=0),
        C("你好，我买的电饭煲还没有收到，想查一下物流。"),
        A("好的，麻烦您提供一下订单号。"),
        Pause(4.0),
        C("订单号是33578201。"),
        A("好的，请您稍等，我帮您查询一下。"),
        Hold(8.0),
        A("对不起，让您久等了。您的包裹预计明天上午送到。"),
        C("好的，谢谢。"),
        *closing(),
    ],
    findings=findings_01,
    meta={"agent_id": "A017", "agent_name": "王芳", "team": "north",
          "started_at": "2026-11-30T09:12:00+08:00", "queue": "delivery"},
)

# call02 -----------------------------------------------------------------------


def findings_02(t):
    a = agent_utts(t)
    return [
        # one finding per part of the greeting and of the closing the standard asks for
        F("greeting_missing", "major", a[0].start_s, a[0].end_s, detail="no greeting (您好)", rule_id="hello"),
        F("greeting_missing", "major", a[0].start_s, a[0].end_s, detail="no service offer", rule_id="service_offer"),
        F("greeting_missing", "minor", a[0].start_s, a[0].end_s, detail="no self-identification",
          rule_id="self_identification"),
        F("closing_missing", "major", a[-1].start_s, a[-1].end_s, detail="no satisfaction check",
          rule_id="satisfaction_check"),
        F("closing_missing", "major", a[-1].start_s, a[-1].end_s, detail="no thanks or goodbye", rule_id="thanks_goodbye"),
    ]


CALL02 = Call(
    "call02_no_greeting_closing",
    "Mono mu-law call where the agent opens straight with business (no greeting) and "
    "ends without satisfaction check, thanks or goodbye.",
    "mulaw",
    "mono",
    [
        A("请提供一下您的订单号码。", gap=0),
        C("订单号是66820453。"),
        A("您这个订单是要办理退货，对吧？"),
        C("对，衣服尺码太小了。"),
        A("退货申请已经提交了，快递员明天上门取件。"),
        C("退款多久能到账呢？"),
        A("仓库收到货以后，三到五个工作日退回原账户。"),
        C("好的，我明白了。"),
        A("退货单号会用短信发到您的手机上。"),
    ],
    findings=findings_02,
    meta={"agent_id": "A023", "agent_name": "李娜", "team": "north",
          "started_at": "2026-11-30T10:47:00+08:00", "queue": "delivery"},
)

# call03 -----------------------------------------------------------------------

BANNED_03 = [
    # (fragment identifying the agent utterance, banned phrase, lexicon rule id, severity)
    ("喂，您说的是哪个订单", "喂", "wei", "minor"),
    ("这个我不知道", "不知道", "dont_know", "major"),
    ("这个我不知道", "好像是", "vague", "minor"),
    ("是您使用不当", "是您使用不当", "blame_shifting", "critical"),
    ("是您使用不当", "没办法", "cannot_help", "major"),
    ("以后再说", "以后再说", "later", "major"),
]


def findings_03(t):
    out = []
    for frag, phrase, rule_id, sev in BANNED_03:
        u = find_utt(t, AGENT, frag)
        assert phrase in u.text
        out.append(F("banned_phrase", sev, u.start_s, u.end_s, text=phrase, rule_id=rule_id))
    return out


CALL03 = Call(
    "call03_banned_phrases",
    "Stereo mp3 call where the agent says banned phrases (喂, 不知道, 好像是, 是您使用不当, "
    "没办法, 以后再说); the customer says similar words (不知道, 真烦人, 什么) which must "
    "not count; polite 麻烦您/为您服务/有什么可以帮您 must not match.",
    "mp3",
    "stereo",
    [
        A(GREETING, gap=0),
        C("我家的洗衣机坏了，我也不知道怎么回事，真烦人。"),
        A("喂，您说的是哪个订单？麻烦您告诉我订单号。"),
        C("什么？订单号是771208。"),
        A("这个我不知道，看记录好像是电机坏了。"),
        C("我一直按照说明书用的。"),
        A("这是您使用不当造成的，我们没办法免费维修。"),
        C("那换一台新的可以吗？"),
        A("换机的事情以后再说吧。"),
        C("好吧，我再考虑一下。"),
        *closing(),
    ],
    findings=findings_03,
    meta={"agent_id": "A031", "agent_name": "张伟", "team": "south",
          "started_at": "2026-11-30T14:05:00+08:00", "queue": "repairs"},
)

# call04 -----------------------------------------------------------------------


def findings_04(t):
    h1, h2 = t["holds"]
    return [
        F("hold", "info", h1.start_s, h1.end_s, detail="hold without notice or apology", rule_id="hold"),
        F("hold_notice_missing", "minor", h1.start_s, h1.end_s, rule_id="hold_notice"),
        F("hold_apology_missing", "minor", h1.start_s, h1.end_s, rule_id="hold_apology"),
        F("hold", "info", h2.start_s, h2.end_s, detail="hold with notice, no apology", rule_id="hold"),
        F("hold_apology_missing", "minor", h2.start_s, h2.end_s, rule_id="hold_apology"),
    ]


CALL04 = Call(
    "call04_holds",
    "Stereo mu-law call with two holds: 7.5 s with neither notice nor apology, 9 s with "
    "notice (请稍等) but no apology or thanks afterwards.",
    "mulaw",
    "stereo",
    [
        A(GREETING, gap=0),
        C("你好，我的快递一直没有更新物流。"),
        A("好的，请您说一下订单号。"),
        C("订单号是88662019。"),
        Hold(7.5),
        A("您的订单昨天已经发货了，现在在运输途中。"),
        C("我想把收货地址改成公司，可以吗？"),
        A("可以的，请稍等。"),
        Hold(9.0),
        A("地址已经改好了，快递会送到新的地址。"),
        C("好的，谢谢。"),
        *closing(),
    ],
    findings=findings_04,
    meta={"agent_id": "A017", "agent_name": "王芳", "team": "north",
          "started_at": "2026-12-01T09:40:00+08:00", "queue": "delivery"},
)

# call05 -----------------------------------------------------------------------


def findings_05(t):
    s, e = whole_agent_span(t)
    return [
        F("speech_rate_fast", "minor", s, e, detail="agent about 300 chars/min", rule_id="agent_rate_max"),
        F("pace_mismatch", "minor", s, e, detail="agent about 1.9x the customer's rate", rule_id="pace_ratio"),
    ]


CALL05 = Call(
    "call05_fast_agent",
    "Mono PCM call where the agent speaks far too fast (about 300 chars/min) to a "
    "customer at about 160 chars/min: speech rate and pace mismatch; it reads the amounts and the "
    "billing date as fast (slow_for_details, 003 §三.5(1)3 B).",
    "pcm",
    "mono",
    [
        A(GREETING, gap=0),
        C("你好，我想办理宽带续费。"),
        A("好的，麻烦您提供一下宽带账号或者登记的手机号码，我这边帮您查询续费套餐。"),
        C("手机号码是13912345678。"),
        A("查到了，您现在的套餐是每月一百元，续费一年可以享受九折优惠，一共一千零八十元。"),
        C("那就续费一年吧。"),
        A("好的，已经为您办理成功，费用会在下个月的账单里扣除，续费以后网速保持不变。"),
        C("好的，谢谢你。"),
        *closing(),
    ],
    agent_rate=300.0,
    agent_pause_scale=0.6,
    findings=findings_05,
    meta={"agent_id": "A042", "agent_name": "陈静", "team": "south",
          "started_at": "2026-12-01T11:18:00+08:00", "queue": "broadband"},
)

# call06 -----------------------------------------------------------------------


def findings_06(t):
    s, e = whole_agent_span(t)
    return [F("speech_rate_slow", "minor", s, e, detail="agent about 110 chars/min", rule_id="agent_rate_min")]


CALL06 = Call(
    "call06_slow_agent",
    "Stereo mp3 call where the agent speaks too slowly (about 110 chars/min); the "
    "customer is slowish too (about 125) so there is no pace mismatch.",
    "mp3",
    "stereo",
    [
        # Slow speakers pause more: short clauses, each followed by a 0.38 s pause
        # (a FastSpeech2 duration ratio much above 2.2 gets hard to understand).
        A("您好，很高兴为您服务，我是客服小李，请问，有什么可以帮到您？", gap=0),
        C("你好，我想查一下，这个月的话费。"),
        A("好的，您这个月的话费，一共是，八十六元。"),
        C("怎么比上个月，多了二十元？"),
        A("这个月，您的流量，超出了套餐，多了二十元。"),
        C("那就帮我，换个大流量套餐吧。"),
        A("好的，已经帮您，换好了，下个月，开始生效。"),
        A("请问，还有什么可以帮您的吗？"),
        C("没有了，谢谢。"),
        A("请问您对我的服务，满意吗？"),
        C("很满意。"),
        A("感谢您的来电，祝您生活愉快，再见！"),
    ],
    agent_rate=110.0,
    customer_rate=125.0,
    agent_pause_scale=2.0,
    customer_pause_scale=2.0,
    findings=findings_06,
    meta={"agent_id": "A031", "agent_name": "张伟", "team": "south",
          "started_at": "2026-12-01T15:32:00+08:00", "queue": "billing"},
)

# call07 -----------------------------------------------------------------------

OVERTALK_07 = [
    # (agent utterance fragment, customer utterance fragment it talks over)
    ("我先帮您查一下", "外壳有裂缝"),
    ("您先别着急", "我已经等了一个多星期了"),
]


def findings_07(t):
    out = []
    for afrag, cfrag in OVERTALK_07:
        a = find_utt(t, AGENT, afrag)
        c = find_utt(t, CUSTOMER, cfrag)
        assert a.start_s < c.end_s < a.end_s, (a, c)
        out.append(F("overtalk", "minor", a.start_s, c.end_s, detail="agent starts while the customer is speaking",
                     rule_id="agent_interrupts"))
    return out


CALL07 = Call(
    "call07_overtalk",
    "Stereo mu-law call where the agent twice starts speaking while the customer is still "
    "talking (overlaps 1.2-2 s); the customer once interrupts the agent (not overtalk). The "
    "cracked kettle is never apologised for.",
    "mulaw",
    "stereo",
    [
        A(GREETING, gap=0),
        C("你好，我买的电水壶收到时外壳有裂缝，想问问怎么处理。"),
        A("好的，我先帮您查一下订单，请问订单号是多少？", overlap=1.6),
        C("订单号是55321086。"),
        A("查到了，这个订单可以换货。"),
        C("要多久才能换好？我已经等了一个多星期了。"),
        A("您先别着急，新的水壶今天就发货。", overlap=1.4),
        C("那旧的怎么办？"),
        A("旧的水壶快递员送货时会一起收回，运费由我们承担。"),
        C("好的，明白了。", overlap=1.0),
        *closing(),
    ],
    findings=findings_07,
    meta={"agent_id": "A023", "agent_name": "李娜", "team": "north",
          "started_at": "2026-12-02T10:02:00+08:00", "queue": "returns"},
)

# --- the standard's dialogue points (issue 17) -----------------------------------
#
# The calls above were scripted before the analyzers checked 003 §四.2(1)2-3 (确认客户信息,
# 礼貌用语) and 003 §四.2(2)4 (投诉处理). Their scripts miss some of those points; the truth
# says so. (fragment of the agent utterance the finding is on, or None for the whole agent
# speech; category; rule id; severity; what the standard asks)
# slow_for_details' detail is the rule pack's message (lexicons/zh-CN/custom_rules.yaml).
SLOW_FOR_DETAILS = ("an amount, a date or a number was read out fast (over 240 chars a minute); "
                    "slow down for what matters")
STANDARD_POINTS = {
    "call01_compliant": [
        (None, "confirmation_missing", "repeat_back", "minor", "001 §2.1 复述确认: no repeat-back"),
        ("我帮您查询", "thanks_missing", "thanks_for_help", "minor", "003 §四.2(1)3: no thanks for the order number"),
        (ANYTHING_ELSE, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
        (SATISFACTION, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
    ],
    "call02_no_greeting_closing": [
        ("您这个订单是要办理退货", "thanks_missing", "thanks_for_help", "minor",
         "003 §四.2(1)3: no thanks for the order number"),
    ],
    "call03_banned_phrases": [
        (None, "confirmation_missing", "repeat_back", "minor", "001 §2.1 复述确认: no repeat-back"),
        ("喂，您说的是哪个订单", "complaint_apology_missing", "apology_first", "major",
         "003 §四.2(2)4: customer upset (怎么回事, 真烦人), no apology first"),
        ("这个我不知道", "thanks_missing", "thanks_for_help", "minor", "003 §四.2(1)3: no thanks for the order number"),
        (SATISFACTION, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
    ],
    "call04_holds": [
        (None, "confirmation_missing", "repeat_back", "minor", "001 §2.1 复述确认: no repeat-back"),
        ("您的订单昨天已经发货了", "thanks_missing", "thanks_for_help", "minor",
         "003 §四.2(1)3: no thanks for the order number"),
        (ANYTHING_ELSE, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
        (SATISFACTION, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
    ],
    "call05_fast_agent": [
        (None, "confirmation_missing", "repeat_back", "minor", "001 §2.1 复述确认: no repeat-back"),
        ("查到了，您现在的套餐", "thanks_missing", "thanks_for_help", "minor",
         "003 §四.2(1)3: no thanks for the phone number"),
        (ANYTHING_ELSE, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
        (SATISFACTION, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
        # docs/sample-truth.md P5 (003 §三.5(1)3 B): the amounts and the billing date read fast
        ("查到了，您现在的套餐", "pack_rule", "slow_for_details", "minor", SLOW_FOR_DETAILS),
        ("好的，已经为您办理成功", "pack_rule", "slow_for_details", "minor", SLOW_FOR_DETAILS),
    ],
    "call06_slow_agent": [
        (None, "confirmation_missing", "repeat_back", "minor", "001 §2.1 复述确认: no repeat-back"),
        ("请问您对我的服务，满意吗", "reply_missing", "reply_to_thanks", "minor",
         "003 §四.2(1)3: customer's 谢谢 not replied to"),
    ],
    "call07_overtalk": [
        (None, "confirmation_missing", "repeat_back", "minor", "001 §2.1 复述确认: no repeat-back"),
        ("好的，我先帮您查一下订单", "complaint_apology_missing", "apology_first", "major",
         "001 §3.2 场景一: product defect (外壳有裂缝), no apology first"),
        ("查到了，这个订单可以换货", "thanks_missing", "thanks_for_help", "minor",
         "003 §四.2(1)3: no thanks for the order number"),
        (SATISFACTION, "reply_missing", "reply_to_thanks", "minor", "003 §四.2(1)3: customer's 谢谢 not replied to"),
    ],
}


def standard_findings(call_id, t):
    out = []
    for frag, category, rule_id, sev, detail in STANDARD_POINTS.get(call_id, []):
        if frag is None:
            s, e = whole_agent_span(t)
        else:
            u = find_utt(t, AGENT, frag)
            s, e = u.start_s, u.end_s
        out.append(F(category, sev, s, e, detail=detail, rule_id=rule_id))
    return out
