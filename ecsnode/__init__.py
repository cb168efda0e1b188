"""The local ECS node: a Tornado service that answers as one ECS node does (see docs/ecs-api.md)."""

__version__ = "1.1.0"
