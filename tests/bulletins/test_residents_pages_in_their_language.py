"""Residents' own pages and the confirmation email in their language (issue 14, item 7): the unsubscribe page from a
bulletin's link, the sign-up page at `?language=`, the confirm page and the email through a real SMTP server. Each
is in English until the association approves that language's fixed wording, then in it, with lang, dir and
Content-Language to match."""

from __future__ import annotations

import re

from sqlalchemy import select

from coordinator.bulletins import subscribers
from coordinator.bulletins.models import Subscriber, SubscriberStatus
from coordinator.extensions import db
from tests.factories import make_subscriber
from tests.helpers.hostile import HOSTILE_TEXTS
from tests.helpers.languages import ARABIC_CAMPAIGN, POLISH_CAMPAIGN, approve_fixed_wording, approved_translation
from tests.helpers.web import csrf_from, post_form

JOIN = "/join/hayes-lane-watch"


def translated_world(world):
    """The world's campaign approved in Polish and Arabic: the scheme offers English, Arabic and Polish."""
    approved_translation(world.campaign, "pl", POLISH_CAMPAIGN)
    approved_translation(world.campaign, "ar", ARABIC_CAMPAIGN)
    db.session.commit()


def html_tag(page: str) -> str:
    return re.search(r"<html[^>]*>", page).group(0)


def local_path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def only_the_csrf_session_cookie(response, app) -> bool:
    """The language lives in the address, never in a cookie: the one cookie a page with a form sets is the session
    that keeps its CSRF token, as the English page always did."""
    cookies = response.headers.getlist("Set-Cookie")
    return all(cookie.startswith(app.config["SESSION_COOKIE_NAME"] + "=") for cookie in cookies)


def mail_to(smtp_server, address: str):
    [message] = [m for m in smtp_server.messages() if m["To"].addresses[0].addr_spec == address]
    return message


def stored(email: str) -> Subscriber | None:
    db.session.expire_all()
    return db.session.scalar(select(Subscriber).where(Subscriber.email == email))


# --- The unsubscribe page from a bulletin's link ------------------------------------------------------------------


def test_an_arabic_residents_unsubscribe_page_is_english_until_arabic_is_approved_then_right_to_left(client, world):
    translated_world(world)
    resident = make_subscriber(world.s.scheme_a, "amal@example.net", language="ar")
    db.session.commit()
    url = local_path(subscribers.unsubscribe_url(resident))

    response = client.get(url)
    page = response.get_data(as_text=True)
    assert html_tag(page) == '<html lang="en-GB" dir="ltr">' and response.headers["Content-Language"] == "en-GB"
    assert "Stop email bulletins from Hayes Lane Watch?" in page and "إلغاء الاشتراك" not in page

    approve_fixed_wording("ar")
    db.session.commit()
    response = client.get(url)
    page = response.get_data(as_text=True)
    assert html_tag(page) == '<html lang="ar" dir="rtl">' and response.headers["Content-Language"] == "ar"
    assert "Stop email bulletins" not in page and "Unsubscribe</button>" not in page
    assert '<button type="submit" class="button button-warning">إلغاء الاشتراك</button>' in page
    assert "<legend>بأي لغة تريد أن تصلك النشرات؟</legend>" in page
    assert only_the_csrf_session_cookie(response, client.application)

    # Leaving: the answer is in Arabic too.
    response = client.post(url)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and html_tag(page) == '<html lang="ar" dir="rtl">'
    assert stored("amal@example.net").status == SubscriberStatus.UNSUBSCRIBED
    assert f'href="{JOIN}?language=ar"' in page  # back to the sign-up page in Arabic


def test_changing_language_says_so_in_the_language_chosen(client, world):
    translated_world(world)
    approve_fixed_wording("pl")
    resident = make_subscriber(world.s.scheme_a, "ola@example.net")
    db.session.commit()
    url = local_path(subscribers.unsubscribe_url(resident))
    assert html_tag(client.get(url).get_data(as_text=True)) == '<html lang="en-GB" dir="ltr">'

    response = post_form(client, f"{url}/language", {"language": "pl"}, page=url)
    assert response.status_code == 302
    response = client.get(url)
    page = response.get_data(as_text=True)
    assert response.headers["Content-Language"] == "pl" and html_tag(page) == '<html lang="pl" dir="ltr">'
    assert "Zapisano: kolejne biuletyny przyjdą w języku zaznaczonym poniżej." in page
    assert 'value="pl" checked' in page

    # A language not offered is refused in the page's own language, its error summary included.
    page = post_form(client, f"{url}/language", {"language": "de"}, page=url).get_data(as_text=True)
    assert "Wystąpił problem" in page and "Błąd:" in page


# --- The sign-up page in a language ---------------------------------------------------------------------------------


def sign_up_links(page: str) -> list[tuple[str, str, str, bool]]:
    nav = re.search(r'<nav class="language-switcher"[^>]*>(.*?)</nav>', page, re.DOTALL).group(1)
    return [(href.replace("&amp;", "&"), lang, name, bool(current))
            for href, lang, current, name in re.findall(
                r'<a href="([^"]+)" hreflang="[^"]+" lang="([^"]+)" dir="[^"]+"( aria-current="page")?>([^<]+)</a>', nav)]


def test_the_sign_up_page_in_polish_ticks_polish_and_links_to_each_language(client, world):
    translated_world(world)
    approve_fixed_wording("pl")
    db.session.commit()

    response = client.get(f"{JOIN}?language=pl")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and only_the_csrf_session_cookie(response, client.application)
    assert html_tag(page) == '<html lang="pl" dir="ltr">' and response.headers["Content-Language"] == "pl"
    assert "<h1>Otrzymuj biuletyny e-mailowe od Hayes Lane Watch</h1>" in page
    assert re.search(r'<label[^>]* for="email"[^>]*>Adres e-mail</label>', page)
    assert "Twoja ulica (nieobowiązkowe)" in page and "Mojej ulicy nie ma na liście" in page
    assert "<legend>W jakim języku mają przychodzić biuletyny?</legend>" in page
    assert 'value="pl" checked' in page and 'value="en-GB" checked' not in page
    # The sentence agreed to stays English (it is stored with the consent as it is), and is marked so.
    assert '<span lang="en-GB" dir="ltr">I agree that Hayes Lane Watch may email me' in page
    assert sign_up_links(page) == [
        (JOIN, "en-GB", "English", False),
        (f"{JOIN}?language=ar", "ar", "العربية", False),
        (f"{JOIN}?language=pl", "pl", "Polski", True),
    ]
    assert re.search(rf'<link rel="alternate" hreflang="pl" href="https?://[^"/]+{JOIN}\?language=pl">', page)
    assert re.search(rf'<link rel="alternate" hreflang="x-default" href="https?://[^"/]+{JOIN}">', page)

    # The plain address is unchanged: English, English ticked, and the same links.
    response = client.get(JOIN)
    page = response.get_data(as_text=True)
    assert html_tag(page) == '<html lang="en-GB" dir="ltr">' and 'value="en-GB" checked' in page
    assert "<h1>Get email bulletins from Hayes Lane Watch</h1>" in page
    assert [link[3] for link in sign_up_links(page)] == [True, False, False]


def test_a_language_not_yet_approved_ticks_it_on_an_english_page_and_a_bad_one_is_ignored(client, world):
    translated_world(world)
    response = client.get(f"{JOIN}?language=AR")
    page = response.get_data(as_text=True)
    assert html_tag(page) == '<html lang="en-GB" dir="ltr">' and response.headers["Content-Language"] == "en-GB"
    assert 'value="ar" checked' in page and "Get email bulletins from" in page

    for value in ("de", "pl-x-klingon", "", *HOSTILE_TEXTS):
        response = client.get(JOIN, query_string={"language": value})
        page = response.get_data(as_text=True)
        assert response.status_code == 200, value
        assert html_tag(page) == '<html lang="en-GB" dir="ltr">' and 'value="en-GB" checked' in page, value
        assert "<script>alert(1)</script>" not in page and "<img src=x" not in page


def test_a_hostile_scheme_name_is_escaped_on_the_polish_page(client, world):
    translated_world(world)
    approve_fixed_wording("pl")
    world.s.scheme_a.name = HOSTILE_TEXTS[0]
    db.session.commit()
    page = client.get(f"{JOIN}?language=pl").get_data(as_text=True)
    assert html_tag(page) == '<html lang="pl" dir="ltr">'
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "Otrzymuj biuletyny e-mailowe od &lt;" in page


def test_signing_up_on_the_polish_page_answers_in_polish_and_checks_in_polish(client, world, smtp_server):
    translated_world(world)
    approve_fixed_wording("pl")
    db.session.commit()
    url = f"{JOIN}?language=pl"

    # Without the box ticked: the messages, the summary and the labels in Polish.
    page = post_form(client, url, {"email": "ola@example.net", "language": "pl"}).get_data(as_text=True)
    assert "Wystąpił problem" in page
    assert "Zaznacz pole, aby wyrazić zgodę, inaczej nie możemy wysyłać Ci biuletynów" in page
    assert stored("ola@example.net") is None
    # No CSRF token: refused.
    assert client.post(url, data={"email": "ola@example.net", "consent": "y", "language": "pl"}).status_code == 400
    assert stored("ola@example.net") is None

    response = post_form(client, url, {"email": "ola@example.net", "consent": "y", "language": "pl"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{JOIN}/check-your-email?language=pl")
    response = client.get(response.headers["Location"])
    page = response.get_data(as_text=True)
    assert html_tag(page) == '<html lang="pl" dir="ltr">' and "<h1>Sprawdź swoją skrzynkę e-mail</h1>" in page
    assert stored("ola@example.net").language == "pl"


# --- The confirmation email and the confirm page ------------------------------------------------------------------


def test_the_confirmation_email_and_confirm_page_are_in_polish_with_content_language(client, world, smtp_server):
    translated_world(world)
    approve_fixed_wording("pl")
    db.session.commit()
    hostile_name = "<script>alert(1)</script> Ola"
    response = post_form(client, f"{JOIN}?language=pl",
                         {"email": "ola@example.net", "name": hostile_name, "consent": "y", "language": "pl"})
    assert response.status_code == 302

    message = mail_to(smtp_server, "ola@example.net")
    assert message["Content-Language"] == "pl"
    assert message["Subject"] == "Prosimy o potwierdzenie: biuletyny e-mailowe od Hayes Lane Watch"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Ktoś, prawdopodobnie Ty, poprosił o biuletyny e-mailowe od Hayes Lane Watch na ten adres." in text
    assert "Aby potwierdzić, otwórz ten link i naciśnij przycisk." in text and "Link działa przez" in text
    assert "Someone, probably you" not in text and "Someone, probably you" not in html
    assert re.match(r'<!doctype html>\s*<html lang="pl" dir="ltr">', html)
    assert ">Potwierdzam biuletyny e-mailowe</a>" in html
    # The name is the resident's own text: escaped in the HTML part, as typed in the plain one.
    assert "<script>" not in html and "Dzień dobry, &lt;script&gt;alert(1)&lt;/script&gt; Ola," in html
    assert f"Dzień dobry, {hostile_name}," in text

    link = re.search(r"https?://\S+/join/confirm/\S+", text).group(0)
    response = client.get(local_path(link))
    page = response.get_data(as_text=True)
    assert html_tag(page) == '<html lang="pl" dir="ltr">' and response.headers["Content-Language"] == "pl"
    assert "Potwierdź biuletyny e-mailowe od Hayes Lane Watch" in page and "Tak, wysyłajcie mi biuletyny" in page
    response = client.post(local_path(link), data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{JOIN}/subscribed?language=pl")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert html_tag(page) == '<html lang="pl" dir="ltr">' and stored("ola@example.net").status == SubscriberStatus.CONFIRMED


def test_the_confirmation_email_is_english_while_the_language_is_not_approved(client, world, smtp_server):
    translated_world(world)
    assert post_form(client, JOIN, {"email": "amal@example.net", "consent": "y", "language": "ar"}).status_code == 302
    message = mail_to(smtp_server, "amal@example.net")
    assert message["Content-Language"] == "en-GB"
    assert message["Subject"] == "Please confirm: email bulletins from Hayes Lane Watch"
    html = message.get_body(("html",)).get_content()
    assert '<html lang="en-GB" dir="ltr">' in html and "Confirm my email bulletins" in html
    assert stored("amal@example.net").language == "ar"  # their bulletins still come in Arabic


def test_an_arabic_confirmation_email_reads_right_to_left(client, world, smtp_server):
    translated_world(world)
    approve_fixed_wording("ar")
    db.session.commit()
    assert post_form(client, f"{JOIN}?language=ar",
                     {"email": "amal@example.net", "consent": "y", "language": "ar"}).status_code == 302
    message = mail_to(smtp_server, "amal@example.net")
    assert message["Content-Language"] == "ar"
    html = message.get_body(("html",)).get_content()
    assert '<html lang="ar" dir="rtl">' in html and "تأكيد اشتراكي في النشرات" in html
    # The address stays left to right inside the Arabic text.
    assert re.search(r"<bdi>https?://[^<]+/join/confirm/[^<]+</bdi>", html)
