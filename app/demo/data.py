"""Sample log lines the demo clusters search (timestamps are made relative to now)."""

from __future__ import annotations

__all__ = ("SAMPLE_LOGS",)

SAMPLE_LOGS: dict[str, list[tuple[int, str, str, str]]] = {
    # cluster -> (minutes ago, level, service, message)
    "demo-logs-us": [
        (3, "error", "campaign-service", "Campaign 'spring-sale' failed: audience export timed out"),
        (7, "warning", "campaign-service", "Campaign 'spring-sale' retrying audience export (attempt 2)"),
        (12, "info", "campaign-service", "Campaign 'spring-sale' scheduled for 10:00 UTC"),
        (18, "error", "billing-service", "Payment provider returned 503 for invoice INV-2291"),
        (25, "info", "api-gateway", "Deployed release 2026.11.3 to us-east"),
    ],
    "demo-logs-eu": [
        (2, "error", "event-service", "Event service timeout: consumer lag above 30 s on topic user-events"),
        (4, "error", "event-service", "Dropped 1,204 user events after retries were exhausted"),
        (9, "warning", "event-service", "Consumer group 'segments' rebalancing"),
        (15, "info", "campaign-service", "Campaign 'spring-sale' audience segment refreshed"),
        (40, "info", "event-service", "Topic user-events partitions increased to 24"),
    ],
}
