"""Admin form pieces: the long select box renders what WTForms' own would; settings refusals find their field."""

from __future__ import annotations

from wtforms import Form, SelectField

from coordinator.admin.forms import LongSelect, SettingsForm, options
from coordinator.settings import LIMITS, SettingsError
from tests.admin.helpers import HOSTILE


class _Pair(Form):
    stock = SelectField(coerce=int, default=2)
    quick = SelectField(coerce=int, default=2, widget=LongSelect())


def test_long_select_renders_the_same_html_as_the_stock_widget():
    pairs = [(0, "Any scheme"), *((i + 1, name) for i, name in enumerate(HOSTILE)), (4, "Zoë's & Łukasz's Watch")]
    for choices in (pairs, options(*pairs)):  # plain pairs or options made once
        form = _Pair()
        form.stock.choices = choices
        form.quick.choices = choices
        stock, quick = str(form.stock(class_="input")), str(form.quick(class_="input"))
        assert quick.replace('id="quick" name="quick"', 'id="stock" name="stock"') == stock
        assert '<option selected value="2">{{ 7*7 }}</option>' in quick
        assert "&lt;script&gt;" in quick and "<script>" not in quick


def test_a_settings_refusal_goes_to_its_field_or_else_to_the_summary(app):
    with app.test_request_context(method="POST"):
        form = SettingsForm(meta={"csrf": False})
        for name, (_low, _high, message) in LIMITS.items():
            form.show_settings_error(SettingsError(message))
            assert form[name].errors == [message]
        form.show_settings_error(SettingsError("The sender address is not valid: no @."))
        assert form.sender_address.errors == ["The sender address is not valid: no @."]
        form.show_settings_error(SettingsError("Enter the association's name."))
        assert form.association_name.errors == ["Enter the association's name."]
        form.show_settings_error(SettingsError("A rule this page does not know yet."))
        assert form.form_errors == ["A rule this page does not know yet."]
