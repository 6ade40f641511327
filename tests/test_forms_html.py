"""Our faster html_params writes exactly what WTForms' own does."""

from markupsafe import Markup
from wtforms.widgets import html_params as wtforms_html_params

from screening.forms import html_params


def test_same_attributes_as_wtforms():
    cases = [
        {"name": "full_name", "id": "full_name", "type": "text", "value": ""},
        {
            "value": "a \"quoted\" <b>bold</b> & 'single'",
            "class_": "input input-error",
            "aria_invalid": "true",
            "aria_describedby": "q-hint q-error",
        },
        {"checked": True, "readonly": False, "data_show_if": '{"a": "yes"}', "maxlength": 200},
        {"value": Markup("<already safe>"), "for_": "x", "autocomplete": "bday"},
        {"value": "Zoë Ünïcødé 名前 👍", "inputmode": "tel", "required": True},
    ]
    for attrs in cases:
        assert html_params(**attrs) == wtforms_html_params(**attrs)
        assert isinstance(html_params(**attrs), Markup)
