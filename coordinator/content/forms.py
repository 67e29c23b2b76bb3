"""Forms for the content library. They gather what was typed; the rules live in the services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Optional

from coordinator.content.fields import (
    CALL_TO_ACTION_MAX,
    KEY_MESSAGE_MAX,
    KEY_MESSAGES_MAX,
    NOTICE_BODY_MAX,
    SET_SIZE_MAX,
    SUMMARY_MAX,
    month_day_words,
)
from coordinator.content.images import MAX_IMAGE_BYTES
from coordinator.content.models import (
    CampaignVersion,
    ContentKind,
    ContentVersion,
    HelplineSetVersion,
    HelplineVersion,
    LocalNoticeVersion,
    VersionState,
)
from coordinator.forms import ProblemsMixin
from coordinator.languages import text_direction
from coordinator.plain_text import PlainText


def options(*pairs: tuple[object, str]) -> list[SelectChoice]:
    """Choices for a select or radio field."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


class _ContentForm(ProblemsMixin, FlaskForm):
    """Shared: no hidden control characters in any typed field; service field errors beside the fields."""

    problem_fields: ClassVar[Mapping[str, str]] = {
        "image_upload": "image", "is_free_to_call": "free_to_call", "helplines": "helpline_1"
    }

    def validate(self, extra_validators=None) -> bool:
        """WTForms' checks, with every text field (StringField and TextAreaField) refusing hidden characters."""
        extra = {name: list(validators) for name, validators in (extra_validators or {}).items()}
        for name, field in self._fields.items():
            if isinstance(field, StringField) and not isinstance(field, HiddenField):
                extra.setdefault(name, []).append(PlainText())
        return super().validate(extra)


class CampaignForm(_ContentForm):
    """A campaign's fields."""

    title = StringField("Title", validators=[DataRequired(message="Enter the title")])
    slug = StringField(
        "Address",
        description="Lower-case letters a to z, digits and hyphens, such as its-not-ok: the campaign's page is "
        "/campaigns/its-not-ok and leaflets print /c/its-not-ok. Leave it empty to make one from the title, in any "
        "script. A change takes effect at once, and the old address keeps leading to the campaign.",
    )
    summary = TextAreaField("Summary", description=f"Up to {SUMMARY_MAX} characters: what a resident should take away.")
    body = TextAreaField(
        "Body",
        description="Markdown: a blank line between paragraphs, ## before a heading, - before each list item, "
        "**bold**, *italics*, [link text](https://www.example.org). HTML is not accepted.",
    )
    key_messages = TextAreaField(
        "Key messages",
        description=f"One per line, at most {KEY_MESSAGES_MAX}, each up to {KEY_MESSAGE_MAX} characters. "
        "Leaflets print them in this order.",
    )
    call_to_action = StringField("Call to action", description=f"Up to {CALL_TO_ACTION_MAX} characters.")
    hashtag = StringField("Hashtag", description="Optional, for example #ITSNOTOK.")
    web_address = StringField("Web address", description="Optional, as it should be printed: www.met.police.uk")
    first_day = DateField(
        "First day", validators=[Optional()],
        description="Optional. Before this day the campaign is offered as upcoming. Leave both days empty for a "
        "campaign offered all year round.",
    )
    last_day = DateField("Last day", validators=[Optional()], description="Optional. After this day it has ended.")
    every_year_from = StringField(
        "Every year from", description="Optional: a window that comes back every year, such as 25 November. "
        "Leave both empty for none.",
    )
    every_year_until = StringField(
        "Every year until", description="Optional, such as 10 December. It may be in the next year: 20 December to "
        "6 January runs over the new year.",
    )
    recommended_set = SelectField(
        "Recommended helpline set", coerce=lambda value: int(value) if str(value or "").isdigit() else None,
        validate_choice=False,
        description="Optional. The builder chooses it for coordinators, and leaflets are made ready with it before "
        "the campaign opens.",
    )
    language = StringField("Language", default="en-GB", description="A language tag, such as en-GB.")
    audience_tags = StringField("Audience", description="Optional. Who it is for, separated by commas.")
    image = FileField(
        "Picture",
        description=f"Optional. A PNG or JPEG file up to {MAX_IMAGE_BYTES // (1024 * 1024)} MB. It is shrunk to "
        "1,600 pixels at most, and details such as the camera and place are removed.",
    )
    remove_image = BooleanField("Remove the current picture")
    is_sensitive = BooleanField(
        "Sensitive: print leaflets discreetly",
        description="For domestic abuse, sexual violence and the like. The outside of a leaflet says only "
        "\u201cSupport for you and your neighbours\u201d; the subject is inside, where someone picking it up from the "
        "doormat does not see it.",
    )

    def to_fields(self) -> dict:
        """What the services need."""
        upload = self.image.data.read() if self.image.data else b""
        return {
            "title": self.title.data,
            "slug": self.slug.data or "",
            "summary": self.summary.data,
            "body": self.body.data,
            "key_messages": self.key_messages.data or "",
            "call_to_action": self.call_to_action.data,
            "hashtag": self.hashtag.data,
            "web_address": self.web_address.data,
            "first_day": self.first_day.data,
            "last_day": self.last_day.data,
            "every_year_from": self.every_year_from.data,
            "every_year_until": self.every_year_until.data,
            "recommended_set_item_id": self.recommended_set.data,
            "language": self.language.data,
            "audience_tags": self.audience_tags.data or "",
            "image_upload": upload,
            "remove_image": self.remove_image.data,
            "is_sensitive": bool(self.is_sensitive.data),
        }

    def fill_from(self, version: CampaignVersion) -> None:
        """Start from an existing version's values."""
        for name in ("title", "summary", "body", "call_to_action", "hashtag", "web_address", "first_day", "last_day",
                     "language", "is_sensitive"):
            getattr(self, name).data = getattr(version, name)
        self.slug.data = version.item.slug
        self.key_messages.data = "\n".join(version.key_messages or [])
        self.audience_tags.data = ", ".join(version.audience_tags or [])
        self.every_year_from.data = month_day_words(version.every_year_from)
        self.every_year_until.data = month_day_words(version.every_year_until)
        self.recommended_set.data = version.recommended_set_item_id

    def set_choices(self, helpline_sets: list[HelplineSetVersion]) -> None:
        """Offer the approved helpline sets as the recommended set."""
        self.recommended_set.choices = [SelectChoice(value="", label="None")] + [
            SelectChoice(value=version.item_id, label=version.title) for version in helpline_sets
        ]


class HelplineForm(_ContentForm):
    """A helpline's fields."""

    title = StringField("Name", validators=[DataRequired(message="Enter the helpline's name")])
    number = StringField(
        "Number",
        description="A UK number such as 0808 802 4040, or a short code such as 101. It is printed in UK "
        "grouping, or as you group it here in blocks of up to four digits after the dialling code (0808 2000 247).",
    )
    opening_hours = StringField("Opening hours", description="Optional, for example Mon to Fri 9am to 5pm.")
    is_24_7 = BooleanField("Open 24 hours a day, 7 days a week")
    who_for = TextAreaField("Who it is for")
    web_address = StringField("Web address", description="Optional, as it should be printed: galop.org.uk")
    free_to_call = RadioField(
        "Free to call",
        choices=options(("auto", "Work it out from the number (0800 and 0808 numbers are free)"), ("yes", "Yes"),
                        ("no", "No")),
        default="auto",
    )
    review_interval_months = IntegerField(
        "Review every (months)", validators=[Optional()],
        description="How often an admin checks the number still works. Empty means the association's default.",
    )

    def to_fields(self) -> dict:
        """What the services need."""
        return {
            "title": self.title.data,
            "number": self.number.data or "",
            "opening_hours": self.opening_hours.data,
            "is_24_7": bool(self.is_24_7.data),
            "who_for": self.who_for.data,
            "web_address": self.web_address.data,
            "is_free_to_call": {"yes": True, "no": False}.get(self.free_to_call.data),
            "review_interval_months": self.review_interval_months.data,
        }

    def fill_from(self, version: HelplineVersion) -> None:
        """Start from an existing version's values."""
        self.title.data = version.title
        self.number.data = version.phone_number_shown
        self.opening_hours.data = version.opening_hours
        self.is_24_7.data = version.is_24_7
        self.who_for.data = version.who_for
        self.web_address.data = version.web_address
        self.free_to_call.data = "yes" if version.is_free_to_call else "no"
        self.review_interval_months.data = version.review_interval_months


class HelplineSetForm(_ContentForm):
    """A helpline set: a title and its helplines in order, one choice per place."""

    title = StringField("Title", validators=[DataRequired(message="Enter the title")])
    is_sensitive = BooleanField(
        "Sensitive: print leaflets discreetly",
        description="Its helplines name the harm (a domestic abuse helpline). Leaflets with this set print a "
        "neutral outside, \u201cSupport for you and your neighbours\u201d, and the helplines inside.",
    )

    def set_choices(self, items) -> None:
        """Offer these helpline items in every place."""
        choices = options((0, "(none)"), *((item.id, _helpline_label(item)) for item in items))
        for place in self.places():
            place.choices = choices

    def places(self) -> list[SelectField]:
        """The helpline choices, first to last."""
        return [getattr(self, f"helpline_{n}") for n in range(1, SET_SIZE_MAX + 1)]

    def chosen_ids(self) -> list[int]:
        """The ids chosen, in order, without the empty places."""
        return [place.data for place in self.places() if place.data]

    def fill_from(self, version: HelplineSetVersion) -> None:
        """Start from an existing version's values."""
        self.title.data = version.title
        self.is_sensitive.data = version.is_sensitive
        for place, entry in zip(self.places(), version.entries, strict=False):
            place.data = entry.helpline_item_id


def _helpline_label(item) -> str:
    version = item.current_version or item.latest_version
    label = f"{version.title} ({version.phone_number_shown})"
    return label if item.current_version else f"{label}, awaiting approval"


for _n in range(1, SET_SIZE_MAX + 1):
    setattr(HelplineSetForm, f"helpline_{_n}", SelectField(f"Helpline {_n}", coerce=int, default=0,
                                                           validate_choice=True))


class LocalNoticeForm(_ContentForm):
    """A scheme's local notice."""

    title = StringField("Heading", validators=[DataRequired(message="Enter a heading")])
    body = TextAreaField(
        "Notice", description=f"Plain text, up to {NOTICE_BODY_MAX} characters: a meeting, a local contact."
    )

    def to_fields(self) -> dict:
        """What the services need."""
        return {"title": self.title.data, "body": self.body.data}

    def fill_from(self, version: LocalNoticeVersion) -> None:
        """Start from an existing version's values."""
        self.title.data = version.title
        self.body.data = version.body


FORMS: dict[ContentKind, type[_ContentForm]] = {
    ContentKind.CAMPAIGN: CampaignForm,
    ContentKind.HELPLINE: HelplineForm,
    ContentKind.HELPLINE_SET: HelplineSetForm,
    ContentKind.LOCAL_NOTICE: LocalNoticeForm,
}


def form_for(kind: ContentKind, version: ContentVersion | None = None) -> _ContentForm:
    """The kind's form, filled from `version` on first display (a POST keeps what was typed)."""
    form = FORMS[kind]()
    if version is not None and not form.is_submitted():
        form.fill_from(version)
    return form


# --- Translations -------------------------------------------------------------------------------


class TranslationLanguageForm(FlaskForm):
    """The language of a new translation (a GET form on the item's page: the next page knows which way it runs)."""

    class Meta:
        csrf = False

    language = StringField(
        "Language of the translation",
        validators=[PlainText()],
        description="A language tag (BCP 47): pl for Polish, ro for Romanian, ar for Arabic, ur for Urdu, bn for "
        "Bengali, pa-Guru for Punjabi in Gurmukhi, cy for Welsh.",
    )


class _TranslationForm(_ContentForm):
    """Only the wording: everything else is the original's. The language travels in a hidden field."""

    language = HiddenField()
    WORDING: ClassVar[tuple[str, ...]] = ()

    def to_fields(self) -> dict:
        """What the translation services need."""
        return {name: getattr(self, name).data or "" for name in self.WORDING}

    def fill_from(self, version: ContentVersion) -> None:
        """Start from a version's wording (the translation's own, or the original's to translate over)."""
        for name in self.WORDING:
            value = getattr(version, name)
            getattr(self, name).data = "\n".join(value or []) if name == "key_messages" else value

    def set_language(self, tag: str) -> None:
        """Mark each wording field with its language and direction, so browsers, spelling checkers and screen
        readers treat the typed text as that language."""
        self.language.data = tag
        for name in self.WORDING:
            getattr(self, name).render_kw = {"lang": tag, "dir": text_direction(tag)}


class CampaignTranslationForm(_TranslationForm):
    """A campaign's wording in another language."""

    WORDING = CampaignVersion.TRANSLATED_FIELDS
    title = StringField("Title", validators=[DataRequired(message="Enter the title")])
    summary = TextAreaField("Summary", description=f"Up to {SUMMARY_MAX} characters.")
    body = TextAreaField("Body", description="Markdown, as the original: a blank line between paragraphs, ## before "
                         "a heading, - before each list item. HTML is not accepted.")
    key_messages = TextAreaField("Key messages", description=f"One per line, at most {KEY_MESSAGES_MAX}, each up to "
                                 f"{KEY_MESSAGE_MAX} characters, in the original's order.")
    call_to_action = StringField("Call to action", description=f"Up to {CALL_TO_ACTION_MAX} characters.")


class HelplineTranslationForm(_TranslationForm):
    """Who a helpline is for and when it answers, in another language; its name and number stay as they are."""

    WORDING = HelplineVersion.TRANSLATED_FIELDS
    who_for = TextAreaField("Who it is for")
    opening_hours = StringField("Opening hours", description="Leave it empty when the helpline is open 24 hours.")


class HelplineSetTranslationForm(_TranslationForm):
    """A helpline set's title in another language; its helplines are the original's."""

    WORDING = HelplineSetVersion.TRANSLATED_FIELDS
    title = StringField("Title", validators=[DataRequired(message="Enter the title")])


class LocalNoticeTranslationForm(_TranslationForm):
    """A local notice in another language."""

    WORDING = LocalNoticeVersion.TRANSLATED_FIELDS
    title = StringField("Heading", validators=[DataRequired(message="Enter a heading")])
    body = TextAreaField("Notice", description=f"Plain text, up to {NOTICE_BODY_MAX} characters.")


TRANSLATION_FORMS: dict[ContentKind, type[_TranslationForm]] = {
    ContentKind.CAMPAIGN: CampaignTranslationForm,
    ContentKind.HELPLINE: HelplineTranslationForm,
    ContentKind.HELPLINE_SET: HelplineSetTranslationForm,
    ContentKind.LOCAL_NOTICE: LocalNoticeTranslationForm,
}


def translation_form_for(kind: ContentKind, tag: str, version: ContentVersion | None = None) -> _TranslationForm:
    """The kind's translation form in language `tag`, filled from `version` on first display."""
    form = TRANSLATION_FORMS[kind]()
    if version is not None and not form.is_submitted():
        form.fill_from(version)
    form.set_language(tag)
    return form


class ConfirmTranslationForm(FlaskForm):
    """An admin's "still right for version N": the version it was checked against travels with it, so a newer
    approval of the original in the meantime is not confirmed unread."""

    original_version_id = HiddenField()


class ReviewForm(FlaskForm):
    """An admin's decision on a submitted version."""

    decision = RadioField(
        "Your decision",
        choices=options(("approve", "Approve this version"), ("request_changes", "Ask for changes")),
        validators=[DataRequired(message="Choose whether to approve it or ask for changes")],
    )
    reason = TextAreaField("What needs to change", validators=[PlainText()],
                           description="Needed when you ask for changes; the author is emailed this.")


class PackImportForm(FlaskForm):
    """A content pack to load."""

    pack = FileField("Content pack (JSON file)")


class LibraryFilterForm(FlaskForm):
    """Narrow the library by kind and state (a GET form)."""

    class Meta:
        csrf = False

    kind = SelectField("Kind", choices=options(("", "All kinds"), *((k.value, k.label.capitalize()) for k in ContentKind)))
    state = SelectField(
        "Status", choices=options(("", "Any status"), *((s.value, s.label.capitalize()) for s in VersionState))
    )
