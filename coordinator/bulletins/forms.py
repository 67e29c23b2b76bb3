"""Forms for residents' sign-up, the coordinator's subscriber pages, and composing and sending bulletins.

The rules live in `coordinator.bulletins.subscribers` and `.drafts`; these forms label the fields and hand
what was typed to the same checks the CSV import uses.
"""

from __future__ import annotations

# Lazy: each label, description and message is looked up when the page shows it, in the page's language (see
# `coordinator.wording.wording_in`), not once at import. Named `_` so that `make translations` finds the phrases.
from flask_babel import lazy_gettext as _
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    Form,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from coordinator.bulletins import drafts, subscribers
from coordinator.content import services as content
from coordinator.forms import CsvUploadMixin, FilterMixin, ProblemsMixin, checked_by, csv_file_field
from coordinator.schemes.models import Scheme
from coordinator.wording import is_english


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _ticked(form, field) -> None:
    if not field.data:
        raise ValidationError(_("Tick the box to say you agree, or we cannot send you bulletins"))


class SignupForm(ProblemsMixin, FlaskForm):
    """A resident asks for a scheme's bulletins: address, optional name and street, and their consent."""

    email = EmailField(
        _("Email address"),
        filters=[_strip],
        description=_("We will send a link to this address. Nothing else is sent until you follow it."),
        validators=[checked_by(subscribers.check_subscriber_email)],
        render_kw={"spellcheck": "false", "maxlength": subscribers.MAX_EMAIL},
    )
    name = StringField(
        _("Your name (optional)"),
        description=_("So your coordinators know who you are. It is never shown to other residents."),
        validators=[checked_by(subscribers.check_subscriber_name)],
        render_kw={"maxlength": subscribers.MAX_NAME},
    )
    street = SelectField(
        _("Your street (optional)"),
        description=_("Some bulletins are only about a few streets. Choose yours to get those too."),
        validate_choice=False,
    )
    # Asked only when the scheme offers more than English; each choice is shown in its own language.
    language = RadioField(
        _("Which language should bulletins come in?"),
        description=_(
            "Each part comes in this language where an approved translation exists, and in English where not yet."
        ),
        validate_choice=False,
    )
    consent = BooleanField(
        "",
        description=_(
            "We keep these words, and when you agreed to them, for as long as you are on the list."
        ),
        validators=[_ticked],
    )

    @classmethod
    def for_scheme(cls, scheme: Scheme, languages: list[str], chosen: str = "", page_language: str = "") -> SignupForm:
        """The form with this scheme's streets and `languages` to choose from and its consent wording by the box;
        `chosen` (the language the page was asked for, one of `languages`) ticked until the resident ticks another.
        `page_language` is the language its words are shown in (English when not given)."""
        form = cls()
        form.street.choices = [
            SelectChoice(value=value, label=label)
            for value, label in [("", _("My street is not listed")), *subscribers.street_choices(scheme)]
        ]
        form.language.choices = [SelectChoice(value=tag, label=tag) for tag in languages]
        if form.language.data is None:
            form.language.data = chosen if chosen in languages else languages[0]
        wording = subscribers.consent_wording(scheme)
        # The sentence agreed to is stored with the consent as it is, in English, whatever the page's language: on a
        # page in another, marked as English, so that it is read in an English voice and, on an Arabic page, keeps
        # its full stop at its end.
        if not is_english(page_language):
            wording = Markup('<span lang="en-GB" dir="ltr">%s</span>') % wording
        form.consent.label.text = wording
        return form


class SubscriberLanguageForm(ProblemsMixin, FlaskForm):
    """A resident chooses another language for their bulletins, from the link in one."""

    language = RadioField(_("Which language should bulletins come in?"), validate_choice=False)

    @classmethod
    def offering(cls, languages: list[str], current: str) -> SubscriberLanguageForm:
        """The form with `languages` to choose from, the resident's own ticked."""
        form = cls()
        form.language.choices = [SelectChoice(value=tag, label=tag) for tag in languages]
        if form.language.data is None:
            form.language.data = current
        return form


class ConfirmSubscriptionForm(FlaskForm):
    """The button that confirms a subscription: nothing but the CSRF token."""


class SubscriberFilterForm(FilterMixin, Form):
    """Narrow a scheme's subscriber list (read with GET: nothing changes, so no CSRF token)."""

    status = SelectField(
        "Status",
        default="",
        choices=[
            SelectChoice(value=value, label=label)
            for value, label in (
                ("", "Any status"),
                ("confirmed", "Confirmed"),
                ("pending", "Waiting for confirmation"),
                ("unsubscribed", "Unsubscribed"),
                ("bouncing", "Bouncing"),
                ("erased", "Erased"),
            )
        ],
    )
    q = StringField("Email or name contains", filters=[_strip], validators=[Optional(), Length(max=100)])

    def filter_args(self) -> dict[str, str]:
        """The valid, non-empty fields as query arguments, for the pager's links."""
        return {name: self._valid(name) for name in ("status", "q") if self._valid(name)}


class SubscriberImportForm(CsvUploadMixin, ProblemsMixin, FlaskForm):
    """A CSV file of a scheme's existing members."""

    file = csv_file_field(
        "CSV file of members",
        "A .csv file saved from your spreadsheet as 'CSV UTF-8', with the header line shown above.",
    )


class EraseSubscriberForm(FlaskForm):
    """The confirmation button for erasing a subscriber: nothing but the CSRF token."""


class ExportSubscriberForm(FlaskForm):
    """The button that downloads a subscriber's data: nothing but the CSRF token."""


# --- Bulletins -------------------------------------------------------------------------------------------------


def _as_id(value: object) -> int | None:
    """A posted id as an int, or None for anything else (the service then says what to choose)."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 9 else None


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes; the form macro draws it as a fieldset with a legend."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _ids(field) -> list[int]:
    return [value for value in (field.data or []) if value is not None]


class BulletinForm(ProblemsMixin, FlaskForm):
    """A bulletin's subject, introduction, content and audience; what was typed stays on the page after an error."""

    subject = StringField(
        "Subject",
        filters=[_strip],
        description=f"What residents see in their inbox: one line, up to {drafts.MAX_SUBJECT} characters.",
        render_kw={"maxlength": drafts.MAX_SUBJECT},
    )
    intro = TextAreaField(
        "A few words from you (optional)",
        description=f"Shown first, up to {drafts.MAX_INTRO} characters. Plain text: line breaks are kept, "
        "and links or formatting are shown just as typed.",
        render_kw={"rows": 5},
    )
    campaigns = MultiCheckboxField(
        "Campaigns", coerce=_as_id, validate_choice=False,
        description="Current campaigns approved by the association. Choose one or more.",
    )
    helpline_set = RadioField("Helpline set", coerce=_as_id, validate_choice=False)
    notices = MultiCheckboxField(
        "Local notices (optional)", coerce=_as_id, validate_choice=False,
        description="Your scheme's notices that an admin has approved.",
    )
    audience = RadioField(
        "Who gets it",
        default="scheme",
        choices=[
            SelectChoice(value="scheme", label="Everyone subscribed to the scheme"),
            SelectChoice(value="streets", label="Only residents of the streets I choose below"),
        ],
    )
    streets = MultiCheckboxField(
        "Streets", coerce=_as_id, validate_choice=False,
        description="Only used if you chose streets above. Subscribers who gave no street get whole-scheme "
        "bulletins only.",
    )
    length = RadioField(
        "How campaigns appear",
        default="short",
        choices=[
            SelectChoice(value="short", label="Short: the summary, up to three key messages and a link to read "
                         "more (best on a phone)"),
            SelectChoice(value="full", label="In full: the whole text of each campaign"),
        ],
        description="Your scheme's choice for every bulletin it sends, this one included.",
    )

    @classmethod
    def for_scheme(cls, scheme: Scheme, draft: drafts.BulletinDraft | None = None) -> BulletinForm:
        """The form with today's choices for this scheme, filled from a saved bulletin on a GET."""
        data = {"length": "full" if scheme.is_bulletin_full_text else "short"}
        if draft is not None:
            data = {
                "subject": draft.subject,
                "intro": draft.intro,
                "campaigns": draft.campaign_version_ids,
                "helpline_set": draft.helpline_set_version_id,
                "notices": draft.local_notice_version_ids,
                "audience": "scheme" if draft.is_whole_scheme else "streets",
                "streets": draft.street_ids,
                "length": "full" if draft.is_full_text else "short",
            }
        form = cls(data=data)
        choices = drafts.bulletin_choices(scheme)
        form.campaigns.choices = [
            SelectChoice(value=v.id, label=v.title + (f" (until {v.last_day:%-d %B %Y})" if v.last_day else ""))
            for v in choices.campaigns
        ]
        form.helpline_set.choices = [
            SelectChoice(value=v.id, label=f"{v.title} ({len(v.entries)} helpline{'s' if len(v.entries) != 1 else ''})")
            for v in choices.helpline_sets
        ]
        form.notices.choices = [SelectChoice(value=v.id, label=v.title) for v in choices.notices]
        form.streets.choices = [
            SelectChoice(value=int(value), label=label) for value, label in subscribers.street_choices(scheme)
        ]
        form.audience.choices[0] = SelectChoice(value="scheme", label=f"Everyone subscribed to {scheme.name}")
        return form

    def to_draft(self) -> drafts.BulletinDraft:
        """What was typed and chosen, for the service to check."""
        return drafts.BulletinDraft(
            subject=self.subject.data or "",
            intro=self.intro.data or "",
            campaign_version_ids=_ids(self.campaigns),
            helpline_set_version_id=self.helpline_set.data,
            local_notice_version_ids=_ids(self.notices),
            is_whole_scheme=self.audience.data != "streets",
            street_ids=_ids(self.streets),
            is_full_text=self.length.data == "full" if self.length.data in ("short", "full") else None,
        )


class SendBulletinForm(ProblemsMixin, FlaskForm):
    """Send now, or at a chosen time (UK time)."""

    when = RadioField(
        "When should it go?",
        default="now",
        choices=[SelectChoice(value="now", label="Now"), SelectChoice(value="later", label="At a time I choose")],
    )
    send_at = DateTimeLocalField(
        "Date and time (UK time)",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
        description="Only used if you chose a time. UK time: GMT in winter, BST in summer.",
    )

    def validate(self, extra_validators=None) -> bool:
        """The fields' own checks, then: a chosen time needs a time (an empty optional field skips its checks)."""
        is_valid = super().validate(extra_validators)
        if self.when.data == "later" and self.send_at.data is None and not self.send_at.errors:
            self.send_at.errors = ["Enter the date and time to send it, or choose Now"]
            return False
        return is_valid

    def chosen_time(self):
        """The chosen time (naive, UK time), or None for now."""
        return self.send_at.data if self.when.data == "later" else None


class BulletinReviewForm(ProblemsMixin, FlaskForm):
    """An admin's decision on a bulletin awaiting approval."""

    decision = RadioField(
        "Your decision",
        validate_choice=False,  # the service names a missing or unknown decision in its own words
        choices=[
            SelectChoice(value="approve", label="Approve: it goes at its time"),
            SelectChoice(value="request_changes", label="Ask for changes: it goes back to its author as a draft"),
        ],
    )
    reason = TextAreaField("What needs to change (when you ask for changes)", render_kw={"rows": 4})


class BulletinActionForm(FlaskForm):
    """A button (send a test, cancel, withdraw, approve a batch): nothing but the CSRF token."""


class AllSchemesBulletinForm(ProblemsMixin, FlaskForm):
    """An admin's one campaign bulletin for every scheme (or one), each scheme sending its own version."""

    schemes = RadioField(
        "Send to",
        default="all",
        choices=[
            SelectChoice(value="all", label="Every scheme: each scheme's subscribers get their own scheme's version"),
            SelectChoice(value="one", label="One scheme, chosen below"),
        ],
    )
    scheme = SelectField("Scheme", coerce=_as_id, validate_choice=False)
    campaigns = MultiCheckboxField("Campaigns", validate_choice=False)
    helpline_set = RadioField("Helpline set", validate_choice=False)
    subject = StringField("Subject", filters=[_strip], render_kw={"maxlength": drafts.MAX_SUBJECT})
    intro = TextAreaField("A few words at the top (optional)", render_kw={"rows": 4},
                          description=f"Up to {drafts.MAX_INTRO} characters of plain text.")

    @classmethod
    def with_choices(cls, schemes: list[Scheme]) -> AllSchemesBulletinForm:
        """The form with every scheme, current campaign and approved helpline set to choose from."""
        form = cls()
        form.scheme.choices = [SelectChoice(value="", label="Choose a scheme")] + [
            SelectChoice(value=s.id, label=s.name) for s in schemes
        ]
        form.campaigns.choices = [SelectChoice(value=v.item.slug, label=v.title) for v in content.current_campaigns()]
        form.helpline_set.choices = [
            SelectChoice(value=v.item.slug, label=v.title) for v in content.approved_helpline_sets()
        ]
        return form
