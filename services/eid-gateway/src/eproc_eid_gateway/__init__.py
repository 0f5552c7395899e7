"""Belgian eID support for the e-procurement SSO hub.

The package holds the card reader (PC/SC via pyscard), the parsing of the card's
identity files, a development PKI and a virtual eID card that speaks vsmartcard's
vpcd protocol so that tests run through a real pcscd.
"""
