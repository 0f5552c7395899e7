"""The eID card agent: a loopback HTTP service on the user's machine, beside the card
reader, that the gateway's login page calls to have the card read and sign
(``eid-agent``). Deployed on citizens' machines, never with the platform."""
