"""The story's browser-like form reading (the headless story itself: tests/cli/test_demo.py)."""
from plugin.sandbox.story import forms


def test_form_parser_reads_what_a_browser_would_submit():
    html = ('<form id="f" method="post" action="/x"><input type="hidden" name="a" value="1">'
            '<input type="radio" name="r" value="n" checked><input type="radio" name="r" value="h">'
            '<input type="checkbox" name="c" value="y"><textarea name="t">hi</textarea>'
            '<input type="submit" name="go" value="Go"></form>')
    (form,) = forms(html)
    assert form.action == "/x" and form.method == "post"
    assert form.fields == {"a": "1", "r": "n", "t": "hi"}
