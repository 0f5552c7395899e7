"""The SMTP sink the notification tests use is a real SMTP server."""

import smtplib
from email.message import EmailMessage

from eproc_runtime.testing.plugin import SmtpSink


async def test_a_mail_sent_over_smtp_arrives_and_survives_a_restart(smtp_sink: SmtpSink) -> None:
    message = EmailMessage()
    message["From"] = "noreply@eproc.test"
    message["To"] = "superuser@example.be"
    message["Subject"] = "Nieuwe toetredingsaanvraag"
    message["Message-ID"] = "<abc@eproc.test>"
    message.set_content("Hallo")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as client:
        client.send_message(message)

    received = await smtp_sink.wait_for(1)
    assert [m["Message-ID"] for m in received] == ["<abc@eproc.test>"]
    assert received[0]["Subject"] == "Nieuwe toetredingsaanvraag"

    smtp_sink.stop()
    try:
        smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=2)
        reachable = True
    except OSError:
        reachable = False
    assert not reachable, "a stopped sink must refuse connections (tests of outages rely on it)"
    smtp_sink.start()
    assert len(smtp_sink.messages()) == 1
