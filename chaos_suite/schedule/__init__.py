"""Scheduling a plan in the cluster: CronJob, least-privilege RBAC, ConfigMap, Locust
manifests (see manifests.py and rbac.py)."""

from chaos_suite.schedule.manifests import cronjob_manifests, locust_manifests, to_yaml
from chaos_suite.schedule.rbac import derive_rules

__all__ = ["cronjob_manifests", "derive_rules", "locust_manifests", "to_yaml"]
