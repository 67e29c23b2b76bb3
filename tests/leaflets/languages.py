"""A short sentence in each language the tests and bench/scripts.py print: "You are not alone", "In an emergency call
999", "Help is free and confidential" (Polish, Turkish and Welsh with letters their alphabets add). Written for the
tests, not approved translations: nothing here is offered to coordinators.
"""

from __future__ import annotations

from coordinator.leaflets.render import LeafletData
from tests.leaflets.starter_leaflets import starter_leaflet

SENTENCES = {
    "ar": ("لست وحدك", "اتصل بالرقم 999 في حالة الطوارئ.", "المساعدة مجانية وسرية."),
    "ur": ("آپ اکیلے نہیں ہیں", "ہنگامی صورت میں 999 پر کال کریں۔", "مدد مفت اور رازدارانہ ہے۔"),
    "bn": ("আপনি একা নন", "জরুরি অবস্থায় 999 নম্বরে ফোন করুন।", "সাহায্য বিনামূল্যে এবং গোপনীয়।"),
    "gu": ("તમે એકલા નથી", "કટોકટીમાં 999 પર ફોન કરો.", "મદદ મફત અને ગોપનીય છે."),
    "pa": ("ਤੁਸੀਂ ਇਕੱਲੇ ਨਹੀਂ ਹੋ", "ਐਮਰਜੈਂਸੀ ਵਿੱਚ 999 ਤੇ ਫ਼ੋਨ ਕਰੋ।", "ਮਦਦ ਮੁਫ਼ਤ ਅਤੇ ਗੁਪਤ ਹੈ।"),
    "ta": ("நீங்கள் தனியாக இல்லை", "அவசரநிலையில் 999 ஐ அழைக்கவும்.", "உதவி இலவசம், ரகசியமானது."),
    "hi": ("आप अकेले नहीं हैं", "आपात स्थिति में 999 पर फ़ोन करें।", "मदद मुफ़्त और गोपनीय है।"),
    "pl": ("Nie jesteś sama", "W nagłym wypadku dzwoń pod 999.", "Zażółć gęślą jaźń: pomoc jest bezpłatna i poufna."),
    "ro": ("Nu ești singură", "În caz de urgență sunați la 999.", "Ajutorul este gratuit și confidențial."),
    "tr": ("Yalnız değilsiniz", "Acil durumda 999'u arayın.", "Yardım ücretsiz ve gizlidir. İyi günler."),
    "cy": ("Dydych chi ddim ar eich pen eich hun", "Ffoniwch 999 mewn argyfwng.",
           "Mae help am ddim ac yn gyfrinachol: ŵyn, tŷ."),
    "en-GB": ("You are not alone", "In an emergency call 999.", "Help is free and confidential."),
}


def leaflet(language: str, **changes) -> LeafletData:
    """A starter leaflet with this language's sentences as its headline, key messages and call to action."""
    headline, first, second = SENTENCES[language]
    return starter_leaflet("vawg-prevention", headline=headline, key_messages=(first, second), summary="",
                           call_to_action=second, language=language, is_sensitive=False, **changes)
