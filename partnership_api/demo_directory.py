"""What the public directory (/oruk) shows of the demo partnership: organisations'
descriptions, and each service's description, eligibility, ages, languages, opening hours and
taxonomy terms (``demo.py`` adds them when it makes the service)."""

from __future__ import annotations

ORGANISATION_DESCRIPTIONS = {
    "Staffordshire Police": "The police force for Staffordshire and Stoke-on-Trent. In an "
    "emergency call 999; if you cannot speak, press 55 when asked.",
    "Staffordshire Commissioner's Office": "The office of the Staffordshire Commissioner for "
    "Police, Fire & Rescue and Crime, which commissions the county's domestic-abuse services.",
    "New Era": "The holistic domestic-abuse service for Staffordshire and Stoke-on-Trent: support "
    "for victims, children and families, and for people who want to change their behaviour.",
    # Refuge providers: nothing that narrows down where a refuge is.
    "Staffordshire Women's Aid": "Safe accommodation and support for women and children "
    "escaping domestic abuse, and a 24-hour helpline.",
    "Glow": "Safe accommodation, and a service for people who want to change abusive behaviour.",
    "Pathway": "Safe accommodation and support for women and children escaping domestic abuse.",
}

EVERY_DAY = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
ROUND_THE_CLOCK = [{"days": EVERY_DAY, "opens_at": "00:00", "closes_at": "23:59"}]
OFFICE_HOURS = [{"days": EVERY_DAY[:5], "opens_at": "09:00", "closes_at": "17:00"}]
REFUGE = dict(
    eligibility="Women aged 16 or over, with or without children, who need to leave home "
    "because of domestic abuse. Call the number at any time: the refuge's address is never "
    "given out.",
    minimum_age=16,
    opening_hours=ROUND_THE_CLOCK,
    taxonomy_terms=["refuge", "children_young_people"],
)

SERVICES = {
    "New Era victim support": dict(
        description="Support for anyone experiencing domestic abuse in Staffordshire and "
        "Stoke-on-Trent: safety planning, outreach, independent domestic violence advocates "
        "(IDVAs) for people at high risk, stalking advocacy, and support for children.",
        eligibility="Anyone aged 16 or over living in Staffordshire or Stoke-on-Trent; "
        "children and young people through the family service.",
        minimum_age=16,
        languages=["English", "Polish", "Urdu", "Punjabi", "British Sign Language"],
        opening_hours=ROUND_THE_CLOCK,
        taxonomy_terms=["outreach", "idva", "stalking", "children_young_people"],
    ),
    "New Era perpetrator service": dict(
        description="A behaviour-change programme for people who have been abusive to a "
        "partner or family member and want to stop.",
        eligibility="Adults who have used abuse and want to change; self-referral or referral "
        "by a professional.",
        minimum_age=18,
        languages=["English"],
        opening_hours=OFFICE_HOURS,
        taxonomy_terms=["perpetrator_programme"],
    ),
    "New Era helpline": dict(
        description="A free, confidential helpline and live chat for anyone affected by "
        "domestic abuse, and for friends, family and professionals worried about someone.",
        eligibility="Anyone: no referral needed.",
        languages=["English", "Polish", "Urdu"],
        opening_hours=ROUND_THE_CLOCK,
        taxonomy_terms=["helpline"],
    ),
    "Staffordshire Women's Aid refuge": dict(
        REFUGE,
        description="Safe accommodation and support for women and their children escaping "
        "domestic abuse, with a 24-hour helpline.",
        languages=["English", "Urdu", "Polish"],
    ),
    "Glow refuge": dict(
        REFUGE,
        description="Safe accommodation for women and children escaping domestic abuse; "
        "pets welcome.",
        languages=["English", "Punjabi"],
    ),
    "Glow perpetrator service": dict(
        description="Group and one-to-one work with people who have been abusive, and "
        "support for their partners and ex-partners.",
        eligibility="Adults living in Newcastle-under-Lyme, Staffordshire Moorlands or "
        "Stoke-on-Trent who have used abuse.",
        minimum_age=18,
        languages=["English"],
        opening_hours=OFFICE_HOURS,
        taxonomy_terms=["perpetrator_programme"],
    ),
    "Pathway refuge": dict(
        REFUGE,
        description="Safe accommodation and support for women and children escaping "
        "domestic abuse.",
        languages=["English"],
    ),
}
