"""Security headers of the edge's answers (issue 11).

Every answer gets ``nosniff`` and ``Referrer-Policy: no-referrer`` (URLs at the
edge carry authorization codes and states). HTML pages (login, logout) also get
a Content-Security-Policy that forbids framing (clickjacking of the login form),
scripts and every other origin; ``form-action`` stays open to http(s) because a
login form's redirect chain ends at the application's redirect URI (browsers
apply ``form-action`` to redirects). HSTS is sent when the edge is served over
https (its issuer URL). Applied by :class:`eproc_runtime.security.SecurityHeaders`.
"""

from __future__ import annotations

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "img-src 'self'",
        "style-src 'self'",
        "form-action 'self' http: https:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
ALWAYS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
HTML = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "X-Frame-Options": "DENY"}
