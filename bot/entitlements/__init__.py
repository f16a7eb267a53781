"""Access after approval (issue 15): what approval grants, when access ends, and taking it away.

- `deliveries`: the neutral `Grant` and `Revoke` deliveries, kept in the operation log until done;
- `access`: pure rules: which entitlements apply to a person, and when their access ends;
- `webhook`: the signed JSON POST to the lab's own scripts;
- `service`: carries out Grant / Revoke (registered with `Messenger.handle`), records them on the
  applicant, reports failures to the admins and retries with backoff;
- `actions`: revoke, block, unblock and the close-out, on the store alone (chat, CLI and the tick);
- `lifecycle`: reminders before access ends, suspension, renewal, a close-out asked again, from the
  store's due-time index.
"""
