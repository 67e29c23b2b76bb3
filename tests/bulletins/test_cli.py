"""`flask --app coordinator bulletin send (--scheme NAME | --all-schemes) --campaign SLUG --helplines SLUG
--subject TEXT [--intro TEXT]`."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from coordinator.bulletins.models import Bulletin, BulletinState
from coordinator.extensions import db
from coordinator.settings import get_settings
from tests.bulletins.helpers import body, fast_sending
from tests.factories import make_recipients


def send(runner, world, *where: str, **options: str):
    args = ["bulletin", "send", *where, "--campaign", options.pop("campaign", world.campaign.item.slug),
            "--helplines", options.pop("helplines", world.helpline_set.item.slug),
            "--subject", options.pop("subject", "Scams this autumn")]
    if "intro" in options:
        args += ["--intro", options.pop("intro")]
    return runner.invoke(args=args)


def bulletins() -> list[Bulletin]:
    db.session.expire_all()
    return list(db.session.scalars(select(Bulletin).order_by(Bulletin.id)))


def test_send_to_one_scheme(runner, world, smtp_server):
    fast_sending()
    make_recipients(world.s.scheme_a, 3, prefix="a")
    make_recipients(world.s.scheme_b, 2, prefix="b")
    result = send(runner, world, "--scheme", "Hayes Lane Watch", intro="From the command line.")
    assert result.exit_code == 0, result.output
    assert "Hayes Lane Watch: bulletin #1 sent, 3 recipient(s)" in result.output
    [bulletin] = bulletins()
    assert (bulletin.scheme_id, bulletin.state, bulletin.sent_count) == (world.s.scheme_a.id, BulletinState.SENT, 3)
    assert bulletin.created_by is None and bulletin.created_by_label == "command line"
    assert set(smtp_server.per_recipient()) == {f"a{n}@example.net" for n in range(3)}
    message = smtp_server.messages()[0]
    assert message["Subject"] == "Scams this autumn"
    assert "From the command line." in body(message, "plain")


def test_send_to_all_schemes_gives_each_scheme_its_own_bulletin(runner, world, smtp_server):
    fast_sending()
    s = world.s
    s.scheme_b.contact_email = "secret.close@example.org"
    make_recipients(s.scheme_a, 2, prefix="a")
    make_recipients(s.scheme_b, 2, prefix="b")
    from tests.factories import make_scheme

    make_scheme("Quiet Close Watch")
    db.session.commit()
    result = send(runner, world, "--all-schemes")
    assert result.exit_code == 0, result.output
    assert "Quiet Close Watch: no bulletin (no confirmed subscribers)" in result.output
    assert "2 bulletin(s) made, 1 scheme(s) skipped." in result.output
    made = bulletins()
    assert [b.scheme_id for b in made] == [s.scheme_a.id, s.scheme_b.id]
    assert len({b.batch for b in made}) == 1 and made[0].batch
    assert smtp_server.per_recipient() == Counter({f"{p}{n}@example.net": 1 for p in "ab" for n in range(2)})
    for message in smtp_server.messages():
        to = message["To"].addresses[0].addr_spec
        if to.startswith("b"):
            assert message["From"].addresses[0].display_name.startswith("Secret Close Watch via")
            assert message["Reply-To"].addresses[0].addr_spec == "secret.close@example.org"
            assert message["List-Id"].endswith("<secret-close-watch.bulletins.localhost>")
        else:
            assert message["From"].addresses[0].display_name.startswith("Hayes Lane Watch via")
            assert message["Reply-To"] is None


def test_either_one_scheme_or_all_schemes(runner, world):
    for where in ([], ["--scheme", "Hayes Lane Watch", "--all-schemes"]):
        result = send(runner, world, *where)
        assert result.exit_code == 2 and "Give either --scheme NAME or --all-schemes" in result.output
    result = send(runner, world, "--scheme", "No Such Watch")
    assert result.exit_code == 1 and "No scheme is called 'No Such Watch'" in result.output
    assert bulletins() == []


def test_wrong_slugs_and_a_bad_subject_make_nothing(runner, world):
    make_recipients(world.s.scheme_a, 1)
    result = send(runner, world, "--scheme", "hayes-lane-watch", campaign="no-such-campaign",
                  helplines="no-such-set", subject="Two\nlines")
    assert result.exit_code == 1
    for message in ("No current, approved campaign has the slug 'no-such-campaign'",
                    "No approved helpline set has the slug 'no-such-set'", "The subject must be one line"):
        assert message in result.output
    assert db.session.scalar(select(func.count()).select_from(Bulletin)) == 0


def test_with_approval_required_the_bulletins_wait_for_an_admin(runner, world, smtp_server):
    get_settings().is_bulletin_approval_required = True
    db.session.commit()
    make_recipients(world.s.scheme_a, 1)
    result = send(runner, world, "--scheme", "Hayes Lane Watch")
    assert result.exit_code == 0, result.output
    assert "bulletin #1 awaiting approval" in result.output
    assert [b.state for b in bulletins()] == [BulletinState.AWAITING_APPROVAL]
    assert smtp_server.count() == 0


def test_without_a_mail_server_it_says_where_the_messages_go(app, runner, world):
    make_recipients(world.s.scheme_a, 1)
    result = send(runner, world, "--scheme", "Hayes Lane Watch")
    assert result.exit_code == 0
    assert "No MAIL_SERVER is set: messages are written to instance/outbox/" in result.output
