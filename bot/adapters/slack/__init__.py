"""The Slack platform (slack-bolt): Slack events in, neutral events out; Outgoing messages to Block Kit.

    descriptor.py  SlackPlatform: settings, configured, checks (doctor and run), serve
    setup.py     variables, the one token checker, the live preflight (auth.test, scopes)
    serve.py     the bolt App over the Host; Socket Mode or HTTP (with /health) until the Stopper fires
    inbound.py   Slack payloads -> neutral events (messages, reactions, buttons, form submissions)
    outbound.py  SlackAdapter: send, edit, mention, profile, forms as modals
    blocks.py    Slack markup, Block Kit and modal rendering (pure functions)
    files.py     Slack files as Attachments; downloads that give the token to Slack's hosts only
    errors.py    Slack errors as DeliveryError, with hints

Importing this package loads no Slack library: `doctor` and `run console` stay light.
Set-up: docs/slack.md and slack-manifest.yaml.
"""

from __future__ import annotations

from bot.adapters.slack.descriptor import SlackPlatform

PLATFORM = SlackPlatform()
