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


def test_shipped_texts_say_may_and_can_claim_when_the_scope_is_unknown():
    context = apology.sample_context()
    unknown = {**context, "incident": {**context["incident"], "scope_known": False}}
    text = apology.render(apology.shipped("apology"), unknown).text
    assert "(Users can't send or receive email). It may affect Contoso Dental" in text
    assert "not working as it should" not in text
    claim = {**unknown, "credit": {**context["credit"], "owed": False}}
    closing = apology.render(apology.shipped("closing"), claim).text
    assert "If Contoso Dental was affected" in closing
    assert "you can claim a service credit of $12.50" in closing and "owed" not in closing
    owed = apology.render(apology.shipped("closing"), context).text
    assert "you are owed a service credit of $12.50" in owed
    # A partner's own wording may tell the two apart, and is tried both ways before it is saved.
    assert apology.check_template("Hi{% if credit and credit.owed %} owed{% endif %}") == ""
    assert apology.check_template("{{ 'x' if incident.scope_known else 'y' }}") == ""


def test_customer_text_drops_slack_markup():
    assert apology.customer_text("Ask <@U0BOSS> in <#C0OPS|ops> <!here>.") == "Ask in."
    assert apology.customer_text("See <https://x.example/a|the page>") == (
        "See the page (https://x.example/a)"
    )
    assert apology.customer_text("Mail <mailto:a@x.example>") == "Mail mailto:a@x.example"
