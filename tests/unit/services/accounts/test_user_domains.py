"""A user's domains: plan limits, ownership proof through DNS, and tenant isolation."""

from __future__ import annotations

import pytest
from tests.support.fake_dns import SERVFAIL, Entry

from mailshield.services.account_domains import UserDomains
from mailshield.services.account_errors import Conflict, InvalidInput, NotFound, PlanLimitReached
from mailshield.services.plans import Plans
from mailshield.services.users import User

from .conftest import POLICY_HOST


async def test_add_and_list(domains: UserDomains, ada: User) -> None:
    """Added domains are listed in order, normalised, each with a fresh ownership token."""
    first = await domains.add(ada, "Example.COM")
    second = await domains.add(ada, "https://bücher.example/shop")
    page = await domains.page(ada)
    assert [d.name for d in page.items] == ["example.com", "xn--bcher-kva.example"]
    assert page.next_after is None
    assert first.ownership.token != second.ownership.token
    assert first.ownership.txt_name == "_mailshield.example.com"
    assert first.ownership.txt_value == f"mailshield-verify={first.ownership.token}"
    assert not first.ownership.verified


async def test_the_free_plan_limit(domains: UserDomains, ada: User) -> None:
    """The third domain on a two-domain free plan is refused with a message naming the limit."""
    await domains.add(ada, "one.example")
    await domains.add(ada, "two.example")
    with pytest.raises(PlanLimitReached) as refused:
        await domains.add(ada, "three.example")
    assert "Free plan holds up to 2 domains" in refused.value.message
    assert refused.value.limit == 2
    assert (await domains.usage(ada)).full


async def test_another_plan_lifts_the_limit(domains: UserDomains, plans: Plans, ada: User) -> None:
    """On the Pro plan a third domain is accepted."""
    await plans.move(ada, "pro")
    for name in ("one.example", "two.example", "three.example"):
        await domains.add(ada, name)
    usage = await domains.usage(ada)
    assert (usage.plan.title, usage.domains, usage.full) == ("Pro", 3, False)


async def test_duplicates_and_bad_names(domains: UserDomains, ada: User) -> None:
    """The same domain twice is a conflict; something that is not a domain is invalid input."""
    await domains.add(ada, "example.com")
    with pytest.raises(Conflict):
        await domains.add(ada, "EXAMPLE.com.")
    with pytest.raises(InvalidInput):
        await domains.add(ada, "not a domain")


async def test_paging(domains: UserDomains, plans: Plans, ada: User) -> None:
    """Pages of two walk all five domains once."""
    await plans.move(ada, "pro")
    for n in range(5):
        await domains.add(ada, f"d{n}.example")
    seen: list[str] = []
    after = None
    while True:
        page = await domains.page(ada, limit=2, after=after)
        seen += [d.name for d in page.items]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == [f"d{n}.example" for n in range(5)]


async def test_tenants_are_isolated(domains: UserDomains, ada: User, bob: User) -> None:
    """Bob can neither see, verify nor remove Ada's domain: each is NotFound."""
    added = await domains.add(ada, "example.com")
    for attempt in (domains.get, domains.verify, domains.remove):
        with pytest.raises(NotFound):
            await attempt(bob, added.id)
    assert (await domains.page(bob)).items == []
    assert (await domains.get(ada, added.id)).name == "example.com"


async def test_verification_by_txt_token(
    domains: UserDomains, ada: User, zone: dict[str, Entry]
) -> None:
    """Without the record verification records what it saw; with it, the domain is verified."""
    added = await domains.add(ada, "example.com")
    failed = await domains.verify(ada, added.id)
    assert not failed.ownership.verified
    assert failed.ownership.problem is not None
    assert "_mailshield.example.com" in failed.ownership.problem
    zone["_mailshield.example.com TXT"] = ["unrelated", added.ownership.txt_value]
    verified = await domains.verify(ada, added.id)
    assert verified.ownership.verified
    assert verified.ownership.method == "txt"


async def test_verification_by_mta_sts_cname(
    domains: UserDomains, ada: User, zone: dict[str, Entry]
) -> None:
    """mta-sts.<domain> as an alias of the policy host proves ownership too."""
    added = await domains.add(ada, "example.com")
    zone["mta-sts.example.com CNAME"] = [POLICY_HOST + "."]
    verified = await domains.verify(ada, added.id)
    assert verified.ownership.method == "cname"


async def test_a_failed_lookup_says_try_again(
    domains: UserDomains, ada: User, zone: dict[str, Entry]
) -> None:
    """A DNS failure is reported as could-not-look, not as a missing record."""
    added = await domains.add(ada, "example.com")
    zone["_mailshield.example.com TXT"] = SERVFAIL
    result = await domains.verify(ada, added.id)
    assert result.ownership.problem is not None
    assert "did not complete" in result.ownership.problem


async def test_removal(domains: UserDomains, ada: User) -> None:
    """A removed domain is gone and frees its place on the plan."""
    added = await domains.add(ada, "example.com")
    await domains.remove(ada, added.id)
    with pytest.raises(NotFound):
        await domains.get(ada, added.id)
    assert (await domains.usage(ada)).domains == 0
