"""The forms of delivery rounds: splitting a run, naming a deliverer, and recording a street's delivery.

A deliverer's page has no session, so its form cannot use Flask-WTF's CSRF token (kept in the session cookie).
`RoundLinkCSRF` is a WTForms CSRF class that needs none: the token is the digest of the round's link, signed
with the app's secret key and dated, so it is valid only for forms shown from that link within FORM_MAX_AGE.
"""

from __future__ import annotations

from flask import current_app, request
from flask_wtf import FlaskForm
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from wtforms import Form, RadioField
from wtforms.csrf.core import CSRF
from wtforms.fields import (
    BooleanField,
    DateField,
    IntegerField,
    SelectChoice,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from coordinator.forms import ProblemsMixin
from coordinator.leaflets.models import DeliveryState
from coordinator.leaflets.rounds import DeliveryReport, link_digest

# A page left open all day on a phone still sends its form; a token copied from an older page does not.
FORM_MAX_AGE = 24 * 60 * 60
_FORM_SALT = "coordinator.delivery-round-form"


class SplitForm(ProblemsMixin, FlaskForm):
    """How many rounds to split a print run's streets into."""

    rounds = IntegerField("How many rounds?", validators=[InputRequired("Give a number of rounds"),
                                                         NumberRange(min=1, message="Give 1 or more rounds")],
                          description="Streets stay in the run's order; each round gets about the same copies.")


class DelivererForm(ProblemsMixin, FlaskForm):
    """A round's name and its deliverer: a name and, if they agree, an email or phone."""

    name = StringField("Name of the round", validators=[Length(max=80)])
    deliverer_name = StringField("Deliverer's name", validators=[Length(max=120)],
                                 description="As the deliverer likes to be called. They need no account.")
    deliverer_contact = StringField("Deliverer's email or phone (optional)", validators=[Length(max=254)],
                                    description="Only if they agreed to it being kept here. It is never printed.")
    has_agreed = BooleanField("The deliverer agreed to their email or phone being kept here")


DELIVERY_CHOICES = [
    SelectChoice(value=DeliveryState.DELIVERED.value, label="Delivered"),
    SelectChoice(value=DeliveryState.PARTLY.value, label="Partly delivered"),
    SelectChoice(value=DeliveryState.NOT_DELIVERED.value, label="Could not deliver"),
]


class DeliveryFields:
    """What happened in one street."""

    state = RadioField("What happened?", choices=DELIVERY_CHOICES,
                       validators=[InputRequired("Choose delivered, partly delivered or could not deliver")])
    delivered_on = DateField("Day delivered (leave empty for today)", validators=[Optional()],
                             description="For example 2026-12-05")
    households = IntegerField("If partly: how many households got a leaflet?", validators=[Optional()])
    reason = TextAreaField("If you could not deliver: why?", validators=[Length(max=500)],
                           description="For example: street closed for works. No names or house numbers, please.")
    save = SubmitField("Save")

    @property
    def report(self) -> DeliveryReport:
        """The form's answers as the service takes them."""
        return DeliveryReport(
            state=DeliveryState(self.state.data) if self.state.data else DeliveryState.TO_DELIVER,
            delivered_on=self.delivered_on.data,
            households=self.households.data,
            reason=self.reason.data or "",
        )


class StreetDeliveryForm(DeliveryFields, ProblemsMixin, FlaskForm):
    """A coordinator records a street themselves (logged in, so Flask-WTF's CSRF token)."""


def _form_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_FORM_SALT)


class RoundLinkCSRF(CSRF):
    """A CSRF token bound to the round's link instead of a session: no cookie is set or needed."""

    def setup_form(self, form):
        self.link = form.meta.csrf_context
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field) -> str:
        return _form_serializer().dumps(link_digest(self.link))

    def validate_csrf_token(self, form, field) -> None:
        # A browser says when a form came from another site; the link's owner only ever posts from the page itself.
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            raise ValidationError("This form can only be sent from its own page: open the round's link and save again.")
        try:
            digest = _form_serializer().loads(field.data or "", max_age=FORM_MAX_AGE)
        except SignatureExpired as exc:
            raise ValidationError("The page had been open for more than a day: check your answer and save again."
                                  ) from exc
        except BadData as exc:
            raise ValidationError("The form was not sent from this page: check your answer and save again.") from exc
        if digest != link_digest(self.link):
            raise ValidationError("The form was sent from another round's page: check your answer and save again.")


class DelivererDeliveryForm(DeliveryFields, ProblemsMixin, Form):
    """A deliverer records a street of their round, from its link (no session)."""

    class Meta:
        csrf = True
        csrf_class = RoundLinkCSRF


def deliverer_form(token: str, street_id: int, formdata=None) -> DelivererDeliveryForm:
    """One street's form on a round's page; its fields are prefixed by the street so each has its own ids."""
    return DelivererDeliveryForm(formdata, prefix=f"s{street_id}", meta={"csrf_context": token})


def coordinator_form(street_id: int, formdata=None) -> StreetDeliveryForm:
    """One street's form on the coordinator's round page."""
    if formdata is None:
        return StreetDeliveryForm(formdata=None, prefix=f"s{street_id}")
    return StreetDeliveryForm(prefix=f"s{street_id}")
