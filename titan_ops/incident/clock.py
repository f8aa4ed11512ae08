"""Time for the incident process: an injectable clock, timestamps, durations and business days.

Every time is an aware ``datetime``; the timeline stores UTC ISO 8601 strings.
Durations come from the policy: ``immediate``, ``15m``, ``2h30m``,
``5 business days``. Business days follow a country's public holidays (the
maintained ``holidays`` package) plus the company's own, counted by numpy's
business-day arithmetic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from titan_ops.errors import TitanOpsError

Clock = Callable[[], datetime]
"""What the incident process reads the time from: ``system_clock`` in production, a fixed one in tests."""

_PART = re.compile(r"([0-9]+)([dhms])")
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_BUSINESS = re.compile(r"^([0-9]+) business days?$")


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """``moment`` as the timeline writes it: UTC, ISO 8601, whole seconds."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def parse_time(text: str, default_zone: tzinfo = UTC) -> datetime:
    """An ISO 8601 time (``Z`` allowed; a time without offset is in ``default_zone``); TitanOpsError if not one."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except (AttributeError, ValueError):
        raise TitanOpsError(f"not an ISO 8601 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=default_zone)


def zone(name: str) -> tzinfo:
    """The time zone named ``name`` (an IANA name such as ``Europe/London``)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TitanOpsError(f"unknown time zone {name!r}") from None


@dataclass(frozen=True)
class Duration:
    """A span from the policy: fixed seconds, or a number of business days."""

    text: str
    seconds: int = 0
    business_days: int = 0

    def after(self, start: datetime, calendar: BusinessCalendar) -> datetime:
        """The moment this duration after ``start`` ends."""
        if self.business_days:
            return calendar.add_business_days(start, self.business_days)
        return start + timedelta(seconds=self.seconds)

    def __str__(self) -> str:
        return self.text


def parse_duration(text: str, immediate: int = 0) -> Duration:
    """``immediate`` (``immediate`` seconds), ``1h30m``, ``45s``, ``5 business days``; TitanOpsError if none."""
    text = str(text).strip()
    if text == "immediate":
        return Duration(text, seconds=immediate)
    business = _BUSINESS.match(text)
    if business:
        return Duration(text, business_days=int(business.group(1)))
    parts = _PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise TitanOpsError(f"not a duration: {text!r} (use e.g. 15m, 2h, 1h30m, 5 business days, immediate)")
    return Duration(text, seconds=sum(int(number) * _UNITS[unit] for number, unit in parts))


def format_span(seconds: float) -> str:
    """``seconds`` for people: ``1h 05m``, ``4m 10s``, ``-12m 00s`` when past."""
    sign = "-" if seconds < 0 else ""
    seconds = int(abs(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours:02d}h"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    return f"{sign}{minutes}m {secs:02d}s"


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days in ``timezone``: ``weekmask`` days that are no public (``country``) or company holiday."""

    timezone: tzinfo = UTC
    country: str | None = None
    subdivision: str | None = None
    extra_holidays: tuple[date, ...] = ()
    weekmask: str = "Mon Tue Wed Thu Fri"

    def holidays(self, years: Iterable[int]) -> list[date]:
        """The holidays of ``years``, sorted."""
        days = set(self.extra_holidays)
        if self.country:
            days |= set(_public_holidays(self.country, self.subdivision, tuple(sorted(set(years)))))
        return sorted(days)

    def add_business_days(self, start: datetime, count: int) -> datetime:
        """The same local time of day ``count`` business days after ``start`` (a start on a day off
        counts from the next business day)."""
        import numpy

        local = start.astimezone(self.timezone)
        years = range(local.year, local.year + 1 + count // 200 + 1)
        day = numpy.busday_offset(numpy.datetime64(local.date()), count, roll="forward",
                                  weekmask=self.weekmask, holidays=self.holidays(years))
        return datetime.combine(date.fromisoformat(str(day)), local.time(), tzinfo=self.timezone)


@lru_cache(maxsize=32)
def _public_holidays(country: str, subdivision: str | None, years: tuple[int, ...]) -> tuple[date, ...]:
    import holidays

    try:
        return tuple(holidays.country_holidays(country, subdiv=subdivision, years=years))
    except NotImplementedError as error:
        raise TitanOpsError(f"no holiday calendar for {country!r} ({error})") from None


def dates(values: Iterable[str]) -> tuple[date, ...]:
    """``YYYY-MM-DD`` strings as dates."""
    return tuple(date.fromisoformat(str(value)) for value in values)
