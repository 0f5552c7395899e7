"""The eID test kit: a development PKI shaped like the Belgian one (with its OCSP
responder and CRLs) and a virtual eID card behind pcscd's vpcd driver.

For development and tests only: production installs never include it (the image
is built without it); ``eid-pki`` and ``eid-card`` are its commands.
"""
