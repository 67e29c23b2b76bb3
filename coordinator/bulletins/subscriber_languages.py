"""The language a resident's bulletins come in: the languages a scheme offers, and a resident changing theirs.

A scheme offers English, and every language in which at least one part of what its bulletins may carry can be read
today, as written or in an approved translation that may be used: a campaign running now, or one of the scheme's own
approved local notices (`translations.translation_languages` of each).
Helplines are left out of the count: their names and numbers are the same in every language, and a language
whose only translated words are a helpline's opening hours would be a bulletin in English. A resident who chose
a language no campaign has any more keeps it (and sees it offered, on their own page): the next translation
reaches them, and until then each part comes in English with a line saying so.
"""

from __future__ import annotations

from coordinator import audit
from coordinator.bulletins.models import Bulletin, Subscriber
from coordinator.bulletins.subscribers import check_offered_language, recipients_query
from coordinator.content import services as content
from coordinator.content.translations import translation_languages
from coordinator.extensions import db
from coordinator.language_tags import ENGLISH, language_choice
from coordinator.schemes.models import Scheme
from coordinator.wording import is_english


def offered_languages(scheme: Scheme) -> list[str]:
    """English first, then each language a current campaign or the scheme's own notice is approved in, by tag."""
    items = [version.item for version in content.current_campaigns()]
    items += [version.item for version in content.local_notices_for_scheme(scheme)]
    # Each item's original language (an Arabic campaign is read in Arabic) and its usable translations.
    tags = {tag for item in items for tag in translation_languages(item) if not is_english(tag)}
    return [ENGLISH, *sorted(tags)]


def languages_for(subscriber: Subscriber) -> list[str]:
    """What a resident may choose on their own page: what the scheme offers, and the language they have now."""
    languages = offered_languages(subscriber.scheme)
    return languages if subscriber.language in languages else [*languages, subscriber.language]


def recipient_languages(bulletin: Bulletin) -> list[str]:
    """The languages other than English its residents read, of those a bulletin would go to now, by tag."""
    stmt = (
        recipients_query(bulletin.scheme, None if bulletin.is_whole_scheme else bulletin.street_ids)
        .with_only_columns(Subscriber.language)
        .distinct()
        .order_by(None)
        .order_by(Subscriber.language)
    )
    return [tag for tag in db.session.scalars(stmt) if not is_english(tag)]


def requested_language(text: str | None, offered: list[str]) -> str:
    """The offered language a sign-up page's address asks for (`?language=pl`; any case, "pl" and "PL" alike), or
    English for none, one not offered, or anything that is not a tag: the page is never refused for it."""
    wanted = (text or "").strip().replace("_", "-").lower()
    return next((tag for tag in offered if tag.lower() == wanted), ENGLISH)


def language_choices(tags: list[str]) -> list[dict]:
    """The languages as a form offers them: each with its tag, its own name and the dir of that name."""
    return [language_choice(tag) for tag in tags]


def change_language(subscriber: Subscriber, text: str, offered: list[str]) -> bool:
    """A resident, from the link in their bulletin, chooses one of `offered` (see `languages_for`); False when it is
    the one they had."""
    tag = check_offered_language(text, offered)
    if tag == subscriber.language:
        return False
    previous, subscriber.language = subscriber.language, tag
    db.session.flush()
    audit.record(
        "subscribers.language_changed",
        subscriber,
        # The tags go in the details only, which erasing the subscriber clears; the summary stays.
        f"Subscriber #{subscriber.id} of {subscriber.scheme.name} chose another language for bulletins",
        actor_label="resident",
        scheme_id=subscriber.scheme_id,
        language=tag,
        previous_language=previous,
    )
    return True
