"""The Belgian eID card's format: file layout and APDU constants, the identity and
address TLV files, the PKCS#15 descriptors, check digits, and the presentation the
card agent sends the gateway. Shared by the gateway, the agent and the test kit."""
