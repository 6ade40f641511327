"""The base of every form here: fields take typed text only.

Flask-WTF hands a form the uploaded files with the text fields (and a JSON body's values as
they are), so a multipart post with a file in a text field stored "<FileStorage: 'f.txt'
...>" as the answer. No form here takes a file: such a part (or any value that is not
text) becomes an empty value and a field error naming the field.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict


class TextOnlyForm(FlaskForm):
    class Meta:
        def wrap_formdata(self, form, formdata):
            data = super().wrap_formdata(form, formdata)
            form.not_text = set()
            if data is None:
                return None
            text = MultiDict()
            for key, value in data.items(multi=True):
                if isinstance(value, str):
                    text.add(key, value)
                else:
                    form.not_text.add(key)
                    text.add(key, "")
            return text

    def not_text_message(self, field) -> str:
        return f"{field.label.text}: please type your answer here; a file cannot be sent."

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for name in getattr(self, "not_text", ()):
            if name in self._fields and name != self.meta.csrf_field_name:
                self[name].errors = [self.not_text_message(self[name])]
                ok = False
        return ok
