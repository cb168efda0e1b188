"""Check an https endpoint's certificate before anything sends it credentials.

    python -m ecsload.commands.tls_check URL [--ca-bundle FILE | --insecure] [--timeout S]

run_load_test.sh runs it after the plan and before the first level. It connects
and completes one TLS handshake, verifying as the load's users and the probe do
(ecsload.tls), and sends no HTTP request: no credential leaves before the server
has shown a certificate that verifies for the endpoint's name. It prints one line
on what it found (the script shows it with -v); a plain http:// URL has nothing
to verify.

Exit codes: 0 verified (or plain http, or --insecure and the handshake completed);
2 usage, the certificate does not verify, the bundle cannot be used, or no TLS
handshake: one line saying which name, what is wrong and the ways to fix it.
"""

import functools
import socket
import ssl
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from ecsload.cli import OneLineParser, UserError, run
from ecsload.exits import EXIT_USAGE
from ecsload.tls import FIXES, NOT_VERIFIED, add_trust_options, is_https, trusted_context
from ecsload.values import option_type, parse_endpoint, positive_number

PROG = "python -m ecsload.commands.tls_check"
HTTPS_PORT = 443
NAME_MISMATCH = {62, 64}  # OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
# The chain stops short of a trusted CA: OpenSSL's X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
# DEPTH_ZERO_SELF_SIGNED_CERT, SELF_SIGNED_CERT_IN_CHAIN, UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
# UNABLE_TO_VERIFY_LEAF_SIGNATURE
NO_ISSUER = {2, 18, 19, 20, 21}
GLOSS = {  # OpenSSL's X509_V_ERR_… codes
    9: "check this machine's clock",  # CERT_NOT_YET_VALID
    10: "the server's operator must renew it",  # CERT_HAS_EXPIRED
    18: "no CA vouches for it: --ca-bundle can name the certificate itself",  # DEPTH_ZERO_…
    19: "its chain ends in a CA this machine does not trust",  # SELF_SIGNED_CERT_IN_CHAIN
    20: "signed by a CA this machine does not trust",  # UNABLE_TO_GET_ISSUER_CERT_LOCALLY
}


def handshake(host: str, port: int, context: ssl.SSLContext, timeout: float) -> dict:
    """Connect and complete a TLS handshake: the server's certificate as `getpeercert` reads
    it ({} when not verified); raise what went wrong."""
    with (
        socket.create_connection((host, port), timeout=timeout) as sock,
        context.wrap_socket(sock, server_hostname=host) as tls,
    ):
        return tls.getpeercert() or {}


def certificate_names(host: str, port: int, context: ssl.SSLContext, timeout: float) -> str:
    """The names a certificate with a good chain was issued for (a second handshake that
    checks the chain but not the name; still nothing is sent)."""
    context.check_hostname = False
    try:
        names = handshake(host, port, context, timeout).get("subjectAltName", ())
    except OSError:
        return "?"
    return ", ".join(value for _, value in names) or "none"


def failure(
    url: str,
    address: str,
    error: OSError,
    timeout: float,
    names: Callable[[], str],
    ca_bundle: str | None = None,
) -> str:
    """The one line that says what went wrong and what to do."""
    if isinstance(error, ssl.SSLCertVerificationError):
        what = error.verify_message.rstrip(".")
        if error.verify_code in NAME_MISMATCH:
            return (
                f"the certificate of {url} does not verify: {what}: it was issued for "
                f"{names()}; nothing was sent to it. Give ECS_ENDPOINT a name it was issued "
                "for; to skip verification knowingly, --insecure"
            )
        if ca_bundle and error.verify_code in NO_ISSUER:
            return (
                f"the certificate of {url} does not verify: {what}, although {ca_bundle} was "
                "trusted too; nothing was sent to it. Either the bundle lacks the CA that issued "
                "it, or the server does not send the intermediate certificate(s) between them "
                "(its operator adds them to the server's chain; or add them to the bundle); to "
                "skip verification knowingly, --insecure"
            )
        if error.verify_code in GLOSS:
            what += f" ({GLOSS[error.verify_code]})"
        return f"the certificate of {url} does not verify: {what}; nothing was sent to it. {FIXES}"
    if isinstance(error, ssl.SSLError):
        return (
            f"the TLS handshake with {address} ({url}) failed: {error.reason or error}; "
            "does it serve https on that port?"
        )
    if isinstance(error, TimeoutError):
        return f"no TLS handshake with {address} ({url}) within {timeout:g} s"
    reason = error.strerror or error
    return f"cannot connect to {address} ({url}) to check its certificate: {reason}"


def main(argv: Sequence[str] | None = None) -> int:
    p = OneLineParser(prog=PROG, description=__doc__.splitlines()[0])
    p.add_argument("endpoint", metavar="URL", type=option_type(parse_endpoint))
    add_trust_options(p)
    p.add_argument(
        "--timeout",
        metavar="S",
        type=option_type(positive_number),
        default=10.0,
        help="seconds to connect and shake hands (default: 10)",
    )
    options = p.parse_args(argv)
    url = options.endpoint
    if not is_https(url):
        print(f"TLS: none ({url} is plain http)")
        return 0
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or HTTPS_PORT
    address = f"{host}:{port}"
    context = trusted_context(options)
    try:
        handshake(host, port, context, options.timeout)
    except OSError as error:
        names = functools.partial(certificate_names, host, port, context, options.timeout)
        line = failure(url, address, error, options.timeout, names, options.ca_bundle)
        raise UserError(line, EXIT_USAGE) from None
    if options.insecure:
        print(NOT_VERIFIED)
    else:
        trusted = "the system's CAs" + (f" and {options.ca_bundle}" if options.ca_bundle else "")
        print(f"TLS: the certificate of {address} verified against {trusted}")
    return 0


if __name__ == "__main__":
    run(main, PROG)
