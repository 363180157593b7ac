"""The core's Delivery port over every connector: the learner's id (`slack:...`, `teams:...`) says which one."""

from __future__ import annotations

from coach.messages import Reply
from coach.ports import Delivery, SendResult


class Deliveries:
    platform = "any"

    def __init__(self) -> None:
        self.by_platform: dict[str, Delivery] = {}

    def add(self, delivery: Delivery) -> None:
        self.by_platform[delivery.platform] = delivery

    def _of(self, learner_id: str) -> Delivery | None:
        return self.by_platform.get(learner_id.split(":", 1)[0])

    async def send(self, learner_id: str, reply: Reply, key: str) -> SendResult:
        delivery = self._of(learner_id)
        if delivery is None:
            return SendResult(False, reason=f"no connected chat can reach {learner_id.split(':', 1)[0]} learners")
        return await delivery.send(learner_id, reply, key)

    async def was_sent(self, learner_id: str, key: str) -> bool | None:
        delivery = self._of(learner_id)
        return await delivery.was_sent(learner_id, key) if delivery else None


def for_worker(container) -> Deliveries:
    """Every configured connector's delivery, outside the app server (`coach worker`)."""
    from connectors.slack.bolt_app import build as build_slack
    from connectors.slack.routes import delivery as slack_delivery
    from connectors.teams.routes import build_bot

    deliveries = Deliveries()
    if container.settings.slack_bot_token or container.settings.slack_client_id:
        deliveries.add(slack_delivery(build_slack(container), container.settings))
    deliveries.add(build_bot(container))
    return deliveries
