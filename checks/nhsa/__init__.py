"""The national platform's detail-audit interfaces (3101 事前 / 3102 事中): requests in, answers out.

`message.read_message` reads a request as claim lines; `checks.report.nhsa_out.national_answer`
writes the answer envelope. ../shared/NHSA_INTERFACE.md describes both shapes."""
from .message import Message, read_message, read_message_file

__all__ = ["Message", "read_message", "read_message_file"]
