"""The change feed's topics: what a writer says changed (``Database.changed``) and what a
reader listens for (``ChangeFeed.subscribe``, ``LiveState.on``). One name per kind of data;
a misspelt topic is a type error instead of a change nobody hears about."""

from __future__ import annotations

from enum import StrEnum


class Topic(StrEnum):
    CONFIG = "config"  # the active proxy config and its history
    ENV = "env"  # environment entries, shared and personal
    POLICY = "policy"  # the company policy in force, its history and the trusted key
    PROJECT = "project"  # a user's projects and which one is active
    SETTINGS = "settings"  # application settings
    TOKEN = "token"  # noqa: S105 (a topic name) the internal token, IAM settings, sign-in
    TOOLS = "tools"  # tool configs the app wrote, their backups and keys
    USERS = "users"  # app accounts and roles
