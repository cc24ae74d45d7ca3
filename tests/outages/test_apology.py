"""The apology templates: shipped and partners' own, rendered and checked."""

from __future__ import annotations

from bot.outages import apology


def test_shipped_templates_render_and_escape_values_for_slack():
    context = apology.sample_context()
    context["customer"] = {**context["customer"], "name": "<!channel> & Co"}
    text = apology.render(apology.shipped("apology"), context).text
    assert "&lt;!channel&gt; &amp; Co" in text and "<!channel>" not in text
    assert "Northwind Cloud Partners" in text and "We are sorry" in text
    closing = apology.render(apology.shipped("closing"), context).text
    assert "$12.50" in closing and "99.687%" in closing
    without_credit = apology.render(apology.shipped("closing"), {**context, "credit": None}).text
    assert "service credit" not in without_credit


def test_a_partner_template_that_does_not_render_is_refused_with_the_reason():
    assert apology.check_template("Hi {{ customer.name }}") == ""
    assert "has no attribute 'nmae'" in apology.check_template("Hi {{ customer.nmae.first }}")
    assert "line 1" in apology.check_template("Hi {% if %}")
    assert "unsafe" in apology.check_template("{{ customer.__class__.__mro__ }}")
    assert apology.check_template("   ") == "the template is empty"
    assert "longer than" in apology.check_template("x" * 3001)
    # A closing text must also render when no credit is owed.
    assert apology.check_template("{{ credit.amount }}") != ""
