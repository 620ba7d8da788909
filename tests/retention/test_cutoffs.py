"""The retention cutoffs: days back for the retention age, calendar years back
for the legal period."""

from datetime import UTC, datetime

from invoicer.retention.rules import cutoffs


def test_the_legal_period_counts_calendar_years_and_the_age_days():
    cut = cutoffs(datetime(2026, 12, 8, 3, 17, tzinfo=UTC), retention_days=90, legal_years=10)
    assert cut.older == datetime(2026, 9, 9, 3, 17, tzinfo=UTC)
    assert cut.legal == datetime(2016, 12, 8, 3, 17, tzinfo=UTC)


def test_29_february_goes_back_to_28_february_in_a_year_without_it():
    cut = cutoffs(datetime(2028, 2, 29, tzinfo=UTC), retention_days=1, legal_years=10)
    assert cut.legal == datetime(2018, 2, 28, tzinfo=UTC)
    assert cutoffs(datetime(2028, 2, 29, tzinfo=UTC), retention_days=1, legal_years=4).legal == datetime(
        2024, 2, 29, tzinfo=UTC
    )
