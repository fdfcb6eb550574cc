"""The JSON shapes of ``/api/v1``: request bodies and responses, built from service values."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from mailshield.core.model import CheckResult, Finding, Report
from mailshield.services.account_domains import Domain, Usage
from mailshield.services.api_tokens import ApiToken, NewToken
from mailshield.services.users import User
from mailshield.storage.account_domains import CheckSummary

StatusText = Literal["pass", "info", "not_applicable", "warn", "error", "fail"]


class PlanOut(BaseModel):
    key: str = Field(examples=["free"])
    title: str = Field(examples=["Free"])
    max_domains: int | None = Field(description="Domains the plan holds; null: unlimited.")


class AccountOut(BaseModel):
    id: int
    email: str
    created_at: datetime
    plan: PlanOut
    domains: int = Field(description="Domains in the account now.")

    @classmethod
    def of(cls, user: User, usage: Usage) -> AccountOut:
        plan = PlanOut(
            key=usage.plan.key, title=usage.plan.title, max_domains=usage.plan.max_domains
        )
        return cls(
            id=user.id,
            email=user.email,
            created_at=user.created_at,
            plan=plan,
            domains=usage.domains,
        )


class DnsRecordOut(BaseModel):
    name: str = Field(examples=["_mailshield.example.com"])
    type: Literal["TXT", "CNAME"]
    value: str


class OwnershipOut(BaseModel):
    verified: bool
    verified_at: datetime | None
    method: Literal["txt", "cname"] | None = Field(description="The proof that was found.")
    checked_at: datetime | None = Field(description="When DNS was last looked at.")
    problem: str | None = Field(description="What the last look saw, when no proof was found.")
    records: list[DnsRecordOut] = Field(description="Publish one of these to prove ownership.")


class DomainOut(BaseModel):
    id: int
    name: str = Field(examples=["example.com"])
    created_at: datetime
    ownership: OwnershipOut

    @classmethod
    def of(cls, domain: Domain, policy_host: str) -> DomainOut:
        proof = domain.ownership
        records = [DnsRecordOut(name=proof.txt_name, type="TXT", value=proof.txt_value)]
        if policy_host:
            records.append(
                DnsRecordOut(name=f"mta-sts.{domain.name}", type="CNAME", value=policy_host)
            )
        ownership = OwnershipOut(
            verified=proof.verified,
            verified_at=proof.verified_at,
            method=proof.method if proof.method in ("txt", "cname") else None,
            checked_at=proof.checked_at,
            problem=proof.problem,
            records=records,
        )
        return cls(
            id=domain.id, name=domain.name, created_at=domain.created_at, ownership=ownership
        )


class DomainIn(BaseModel):
    name: str = Field(min_length=1, max_length=1024, examples=["example.com"])


class DomainList(BaseModel):
    items: list[DomainOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")


class CheckIn(BaseModel):
    domain: str = Field(min_length=1, max_length=1024, examples=["example.com"])


class FindingOut(BaseModel):
    code: str = Field(examples=["mta_sts.record.missing"])
    status: StatusText
    subject: str
    params: dict[str, Any]
    message: str
    fix: str | None = Field(description="The exact record or policy text that fixes it.")

    @classmethod
    def of(cls, finding: Finding) -> FindingOut:
        return cls.model_validate(finding.to_dict())


class CheckResultOut(BaseModel):
    check: str = Field(examples=["mta_sts"])
    status: StatusText
    findings: list[FindingOut]
    evidence: dict[str, Any]

    @classmethod
    def of(cls, result: CheckResult) -> CheckResultOut:
        return cls.model_validate(result.to_dict())


class ReportOut(BaseModel):
    domain: str
    checked_at: datetime
    score: int = Field(ge=0, le=100)
    grade: str = Field(examples=["A+", "B", "?"])
    status: StatusText
    results: list[CheckResultOut]

    @classmethod
    def of(cls, report: Report) -> ReportOut:
        return cls.model_validate(report.to_dict())


class StoredCheckOut(BaseModel):
    id: int
    report: ReportOut


class CheckSummaryOut(BaseModel):
    id: int
    checked_at: datetime
    score: int
    grade: str
    status: StatusText

    @classmethod
    def of(cls, summary: CheckSummary) -> CheckSummaryOut:
        return cls(
            id=summary.id,
            checked_at=summary.checked_at,
            score=summary.score,
            grade=summary.grade,
            status=summary.status,
        )


class CheckList(BaseModel):
    items: list[CheckSummaryOut]
    next_cursor: str | None


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["CI pipeline"])


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the token, to tell tokens apart.")
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken) -> TokenOut:
        return cls(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
        )


class NewTokenOut(BaseModel):
    token: TokenOut
    secret: str = Field(description="The token itself: shown once, never again.")

    @classmethod
    def of(cls, new: NewToken) -> NewTokenOut:
        return cls(token=TokenOut.of(new.token), secret=new.secret)


class TokenList(BaseModel):
    items: list[TokenOut]
