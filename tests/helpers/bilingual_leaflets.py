"""Leaflet content in Polish and Arabic for the bilingual leaflet tests: the VAWG starter campaign with a helpline set
that is not marked sensitive (Karma Nirvana, Victim Support), each translated and approved (four eyes), and both
languages' fixed wording approved. The lines were written for these tests: nobody's approved wording.
"""

from __future__ import annotations

from coordinator.content.models import ContentKind
from coordinator.extensions import db
from tests.factories import current, load_starter, make_coordinated_scheme, make_helpline_set
from tests.helpers.languages import approve_fixed_wording, approved_translation

CAMPAIGN = "vawg-prevention"
POLISH = {
    "campaign": {"title": "Przemoc wobec kobiet i dziewcząt: zapobieganie", "summary": "Razem możemy jej zapobiec.",
                 "body": "Porozmawiaj z sąsiadami.", "key_messages": ["Zauważ, co się dzieje.", "Zgłoś to."],
                 "call_to_action": "Zadzwoń pod 101, aby to zgłosić."},
    "karma-nirvana": {"who_for": "ofiary przemocy w imię honoru i małżeństw przymusowych",
                      "opening_hours": "od poniedziałku do piątku, 9:00–17:00"},
    "victim-support": {"who_for": "ofiary każdego przestępstwa", "opening_hours": ""},
}
ARABIC = {
    "campaign": {"title": "منع العنف ضد النساء والفتيات", "summary": "معًا نستطيع منعه.",
                 "body": "تحدث مع جيرانك.", "key_messages": ["انتبه لما يحدث.", "أبلغ عنه."],
                 "call_to_action": "اتصل بالرقم 101 للإبلاغ."},
    "karma-nirvana": {"who_for": "ضحايا العنف باسم الشرف والزواج القسري",
                      "opening_hours": "من الاثنين إلى الجمعة، 9 صباحًا حتى 5 مساءً"},
    "victim-support": {"who_for": "ضحايا أي جريمة", "opening_hours": ""},
}


def content_in_languages():
    """The starter content, the campaign and a two-helpline set translated into Polish and Arabic with both
    languages' wording approved, and a scheme with one street: (scheme, coordinator, campaign, helpline set)."""
    load_starter()
    helplines = [current(ContentKind.HELPLINE, slug) for slug in ("karma-nirvana", "victim-support")]
    helpline_set = make_helpline_set(helplines, title="Honour-based abuse and any crime")
    campaign = current(ContentKind.CAMPAIGN, CAMPAIGN)
    for language, texts in (("pl", POLISH), ("ar", ARABIC)):
        approved_translation(campaign, language, texts["campaign"])
        for version in helplines:
            approved_translation(version, language, texts[version.item.slug])
        approve_fixed_wording(language)
    scheme, coordinator = make_coordinated_scheme("Bickley Park", streets=((20, 0),))
    db.session.commit()
    return scheme, coordinator, campaign, helpline_set
