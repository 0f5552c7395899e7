"""The eID gateway: an OpenID Provider whose users log in with their Belgian eID card.

It checks what the card agent presents (chains to the configured roots, file and
challenge signatures, revocation status) and issues codes and ID tokens. The card
format lives in ``eproc_eid_card``, the agent beside the reader in
``eproc_eid_agent``, the development PKI and virtual card in ``eproc_eid_testkit``.
"""
